/* A shared library with no gradproof entry point. */
int softmax(const double* z, long n, long c, double* p) { (void)z; (void)n; (void)c; (void)p; return 0; }
