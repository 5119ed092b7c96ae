/*
 * Category logging.  Messages go to the logger's file (or stderr); the
 * guest_error and unimp categories are what the project uses to report
 * guest misuse without aborting.
 */
#include "log.h"

#include <stdlib.h>
#include <string.h>

static const char *const cat_names[] = {
#define X(id, name, desc) name,
    LOG_CATEGORIES(X)
#undef X
};
static const char *const cat_desc[] = {
#define X(id, name, desc) desc,
    LOG_CATEGORIES(X)
#undef X
};

void umbra_check_failed(const char *file, int line, const char *expr)
{
    fprintf(stderr, "umbra: internal check failed at %s:%d: %s\n", file, line, expr);
}

void log_init(struct logger *lg)
{
    lg->mask = 0;
    lg->out = NULL;
    lg->limited = 0;
}

void log_printf(struct logger *lg, enum log_cat cat, const char *fmt, ...)
{
    FILE *f = lg->out ? lg->out : stderr;
    va_list ap;
    fprintf(f, "[%s] ", cat_names[cat]);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
}

void log_list_categories(FILE *f)
{
    for (unsigned i = 0; i < LOG__COUNT; i++)
        fprintf(f, "  %-12s %s\n", cat_names[i], cat_desc[i]);
}

int log_parse_mask(const char *list, u32 *mask)
{
    char *copy = strdup(list), *save = NULL;
    int rc = 0;
    if (!copy)
        return -1;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        unsigned i;
        for (i = 0; i < LOG__COUNT; i++)
            if (!strcmp(tok, cat_names[i]))
                break;
        if (i == LOG__COUNT) {
            fprintf(stderr, "umbra: -d: unknown log category '%s' (try -d help)\n", tok);
            rc = -1;
            break;
        }
        *mask |= 1u << i;
    }
    free(copy);
    return rc;
}
