/* A program speaking the subprocess protocol badly (for `gradproof check --exec`). It answers
 * hello properly (except in the hello_* modes), then misbehaves on every call as argv[1] says:
 *   exit_early  exits with status 3 without answering
 *   garbage     answers with a line that is not JSON
 *   truncated   announces the full payload (as many bytes as the request's), sends 5 and exits
 *   flood       writes an endless line without a newline (a header > 64 KiB)
 *   silent      never answers (sleeps)
 *   huge_claim  announces a payload of 10^18 bytes
 *   hello_garbage / hello_exit  break the handshake itself */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long long last_bytes; /* payload size of the last request: the size a real answer has */

static int read_request(void) {
    char line[65536];
    if (!fgets(line, sizeof line, stdin)) return 0;
    const char* b = strstr(line, "\"bytes\":");
    long long bytes = b ? atoll(b + 8) : 0;
    last_bytes = bytes;
    for (long long i = 0; i < bytes; ++i)
        if (getchar() == EOF) return 0;
    return 1;
}

int main(int argc, char** argv) {
    const char* mode = argc > 1 ? argv[1] : "";
    if (!read_request()) return 0;
    if (!strcmp(mode, "hello_garbage")) {
        printf("HTTP/1.1 200 OK\n");
        fflush(stdout);
        return 0;
    }
    if (!strcmp(mode, "hello_exit")) return 4;
    printf("{\"status\":\"ok\",\"protocol\":1,\"entry_points\":[\"softmax_f64\"],\"name\":\"hostile_%s\",\"bytes\":0}\n", mode);
    fflush(stdout);
    while (read_request()) {
        if (!strcmp(mode, "exit_early")) return 3;
        if (!strcmp(mode, "garbage")) printf("garbage, not a header\n");
        if (!strcmp(mode, "truncated")) {
            printf("{\"status\":\"ok\",\"bytes\":%lld}\n12345", last_bytes); /* softmax: as many bytes as sent */
            fflush(stdout);
            return 0;
        }
        if (!strcmp(mode, "flood"))
            for (;;) fputs("floodfloodfloodfloodfloodfloodfloodfloodfloodfloodfloodfloodflood", stdout);
        if (!strcmp(mode, "silent")) {
            sleep(3600);
            return 0;
        }
        if (!strcmp(mode, "huge_claim")) printf("{\"status\":\"ok\",\"bytes\":1000000000000000000}\nabc");
        fflush(stdout);
    }
    return 0;
}
