/* placeholder until the posix backend lands */
#include "backends/backend.h"
#include "common/error.h"
int bs__posixfs_new(bs_backend **out, const char *url, const bs_backend_config *cfg)
{
    (void)url; (void)cfg; *out = NULL;
    return bs__error_set(BS_ERR_UNSUPPORTED, "posix backend not built yet");
}
