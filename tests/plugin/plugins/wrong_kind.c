/* Exports the right name as a data object instead of a function. */
double gradproof_softmax_f64[4] = {1, 2, 3, 4};
