/* URL scheme -> backend constructor. Backends add one line here. */
#include "backends/backend.h"

#include <string.h>

typedef struct registry_entry {
    const char *prefix; /* scheme including its separator */
    bs_backend_ctor ctor;
} registry_entry;

static const registry_entry registry[] = {
    {"file://", bs__posixfs_new},
    {"sftp://", bs__sftp_new},
    {"rclone:", bs__rclone_new},
    {"serve://", bs__remote_new},
    {"ssh://", bs__remote_new},
    {"rest://", bs__rest_new},
    {"http://", bs__rest_new},
    {"https://", bs__rest_new},
    {"s3:", bs__s3_new},
    {"b2:", bs__s3_new},
};

bs_backend_ctor bs__backend_ctor_for(const char *url)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (strncmp(url, registry[i].prefix, strlen(registry[i].prefix)) == 0)
            return registry[i].ctor;
    return NULL;
}
