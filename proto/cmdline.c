/* Shell-like word splitting (see cmdline.h). */
#include "proto/cmdline.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

#define MAX_WORDS 256
#define MAX_INPUT (64 * 1024)

void bs__argv_free(char **argv)
{
    if (!argv) return;
    for (char **a = argv; *a; a++) free(*a);
    free(argv);
}

int bs__split_words(char ***out, size_t *argc, const char *s)
{
    *out = NULL;
    *argc = 0;
    size_t len = strnlen(s, MAX_INPUT + 1);
    if (len > MAX_INPUT) return bs__error_set(BS_ERR_INVALID, "command line too long");
    char **argv = calloc(MAX_WORDS + 1, sizeof *argv);
    char *word = malloc(len + 1);
    if (!argv || !word) {
        free(argv);
        free(word);
        return bs__error_set(BS_ERR_NOMEM, NULL);
    }
    size_t n = 0, w = 0;
    int rc = 0;
    bool in_word = false;
    for (size_t i = 0; i <= len && !rc; i++) {
        char c = s[i];
        if (c == '\0' || c == ' ' || c == '\t' || c == '\n') {
            if (in_word) {
                if (n == MAX_WORDS) {
                    rc = bs__error_set(BS_ERR_INVALID, "too many words in a command line");
                    break;
                }
                word[w] = '\0';
                if (!(argv[n++] = strdup(word))) rc = bs__error_set(BS_ERR_NOMEM, NULL);
                w = 0;
                in_word = false;
            }
            continue;
        }
        in_word = true;
        if (c == '\\') {
            if (s[i + 1] == '\0') rc = bs__error_set(BS_ERR_INVALID, "trailing backslash");
            else word[w++] = s[++i];
        } else if (c == '\'') {
            const char *end = strchr(s + i + 1, '\'');
            if (!end) {
                rc = bs__error_set(BS_ERR_INVALID, "unterminated single quote");
                break;
            }
            size_t k = (size_t)(end - (s + i + 1));
            memcpy(word + w, s + i + 1, k);
            w += k;
            i += k + 1;
        } else if (c == '"') {
            size_t j = i + 1;
            for (; s[j] && s[j] != '"'; j++) {
                if (s[j] == '\\' && s[j + 1] && strchr("\"\\$`", s[j + 1])) j++;
                word[w++] = s[j];
            }
            if (!s[j]) rc = bs__error_set(BS_ERR_INVALID, "unterminated double quote");
            i = j;
        } else {
            word[w++] = c;
        }
    }
    free(word);
    if (rc) {
        bs__argv_free(argv);
        return rc;
    }
    *out = argv;
    *argc = n;
    return 0;
}
