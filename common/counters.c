/* Names and descriptions for the counter registry declared in counters.h. */
#include "counters.h"

#include <inttypes.h>

static const char *const names[] = {
#define X(name, desc) #name,
    COUNTER_LIST(X)
#undef X
};
static const char *const descs[] = {
#define X(name, desc) desc,
    COUNTER_LIST(X)
#undef X
};

const char *counter_name(enum counter_id id)
{
    return id < CNT__COUNT ? names[id] : "?";
}

const char *counter_desc(enum counter_id id)
{
    return id < CNT__COUNT ? descs[id] : "?";
}

void counters_dump(const struct counters *c, FILE *f)
{
    for (unsigned i = 0; i < CNT__COUNT; i++)
        if (c->v[i])
            fprintf(f, "%-28s %" PRIu64 "\n", names[i], c->v[i]);
}
