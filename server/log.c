/* Logging of borgstore-serve: lines to stderr or --log-file at the
 * operator's level, and the same lines in-band (LOG frames) at the level the
 * client asked for. Messages for the client lose absolute server paths. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/printable.h"
#include "server/serve.h"

/* Stop queuing in-band log lines while this much output waits. */
#define LOG_OUTPUT_CAP (1024u * 1024)

static const struct { const char *name; int level; } levels[] = {
    {"debug", BS_LOG_DEBUG}, {"info", BS_LOG_INFO}, {"warning", BS_LOG_WARNING},
    {"error", BS_LOG_ERROR}, {"critical", BS_LOG_CRITICAL},
};

int serve_log_level_parse(const char *name)
{
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (!strcasecmp(name, levels[i].name)) return levels[i].level;
    return -1;
}

static const char *level_name(int level)
{
    const char *n = "debug";
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (level >= levels[i].level) n = levels[i].name;
    return n;
}

/* Replaces prefix occurrences of dir (followed by '/' or the end) in text. */
static void cut(char *text, const char *dir, const char *repl)
{
    size_t d = strlen(dir), r = strlen(repl);
    if (d < 2) return;
    for (char *p = strstr(text, dir); p; p = strstr(p, dir)) {
        char next = p[d];
        if (next != '\0' && next != '/' && next != ' ' && next != ':' && next != '\'' &&
            next != '"' && next != ')') {
            p += d;
            continue;
        }
        size_t skip = d + (next == '/' ? 1 : 0);
        memmove(p + r, p + skip, strlen(p + skip) + 1);
        memcpy(p, repl, r);
        p += r;
    }
}

void serve_scrub(const serve *s, char *out, size_t cap, const char *msg)
{
    snprintf(out, cap, "%s", msg ? msg : "");
    /* the store's own prefix first: names inside it stay readable */
    if (s->backend_path) cut(out, s->backend_path, "");
    if (s->cwd[0]) cut(out, s->cwd, "");
    /* any other absolute path left at a word start becomes <path> */
    for (char *p = out; (p = strchr(p, '/'));) {
        bool start = p == out || strchr(" \t'\"(=:[", p[-1]);
        if (!start) {
            p++;
            continue;
        }
        char *e = p;
        while (*e && !strchr(" \t'\"):,]", *e)) e++;
        static const char repl[] = "<path>";
        size_t r = sizeof repl - 1, span = (size_t)(e - p);
        if (span < r && strlen(out) + r - span >= cap) break;
        memmove(p + r, e, strlen(e) + 1);
        memcpy(p, repl, r);
        p += r;
    }
}

void serve_log(serve *s, int level, const char *fmt, ...)
{
    bool local = level >= s->opt->log_level;
    bool inband = s->hello_done && level >= s->client_log_level && !s->fatal &&
                  bs__outq_pending(&s->out) < LOG_OUTPUT_CAP;
    if (!local && !inband) return;
    char raw[BS_MESSAGE_MAX], msg[BS_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    /* names and algorithm strings come from the client: no control bytes
     * (a newline would forge a line, ESC reach the operator's terminal) */
    bs__printable_str(msg, sizeof msg, raw);
    if (local) {
        char line[BS_MESSAGE_MAX + 96];
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        int n = snprintf(line, sizeof line, "%04d-%02d-%02d %02d:%02d:%02d borgstore-serve[%d] %s: %s\n",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, (int)getpid(), level_name(level), msg);
        if (n > 0) {
            ssize_t w = write(s->opt->log_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
            (void)w; /* nowhere left to report a failing log */
        }
    }
    if (inband) {
        char clean[BS_MESSAGE_MAX];
        serve_scrub(s, clean, sizeof clean, msg);
        if (!bs__enc_log(bs__outq_buf(&s->out), (unsigned)level, clean)) bs__outq_commit(&s->out);
    }
}
