/* Benchmark: string building and splitting, the C baseline for strings.kl. The string grows in a
 * buffer that doubles when full; split copies every part into its own allocation (as Keel,
 * Lua and Python do); join copies the parts into a new buffer; strstr finds the last item. The
 * count is the first argument (default 1000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *bytes;
    size_t len, cap;
} Buffer;

static void append(Buffer *b, const char *text, size_t len) {
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 16;
        while (b->len + len + 1 > cap) {
            cap *= 2;
        }
        b->bytes = realloc(b->bytes, cap);
        if (!b->bytes) {
            exit(1);
        }
        b->cap = cap;
    }
    memcpy(b->bytes + b->len, text, len);
    b->len += len;
    b->bytes[b->len] = 0;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000;
    Buffer s = {0};
    append(&s, "", 0);
    char piece[64];
    for (long i = 0; i < n; i++) {
        int len = snprintf(piece, sizeof piece, "item%ld,", i);
        append(&s, piece, (size_t)len);
    }
    size_t count = 1;
    for (size_t i = 0; i < s.len; i++) {
        count += s.bytes[i] == ',';
    }
    char **parts = malloc(count * sizeof(char *));
    size_t *lens = malloc(count * sizeof(size_t));
    if (!parts || !lens) {
        return 1;
    }
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= s.len; i++) {
        if (i == s.len || s.bytes[i] == ',') {
            lens[k] = i - start;
            parts[k] = malloc(lens[k] + 1);
            if (!parts[k]) {
                return 1;
            }
            memcpy(parts[k], s.bytes + start, lens[k]);
            parts[k][lens[k]] = 0;
            k++;
            start = i + 1;
        }
    }
    long total = 0;
    for (size_t i = 0; i < count; i++) {
        total += (long)lens[i];
    }
    Buffer joined = {0};
    append(&joined, "", 0);
    for (size_t i = 0; i < count; i++) {
        if (i > 0) {
            append(&joined, ";", 1);
        }
        append(&joined, parts[i], lens[i]);
    }
    snprintf(piece, sizeof piece, "item%ld;", n - 1);
    char *found = strstr(joined.bytes, piece);
    long at = found ? (long)(found - joined.bytes) : -1;
    printf("%zu\n%zu\n%ld\n%zu\n%ld\n", s.len, count, total, joined.len, at);
    for (size_t i = 0; i < count; i++) {
        free(parts[i]);
    }
    free(parts);
    free(lens);
    free(s.bytes);
    free(joined.bytes);
    return 0;
}
