/* The store path a REST client names with --backend (see backend_arg.c). */
#ifndef BS_SERVER_REST_BACKEND_ARG_H
#define BS_SERVER_REST_BACKEND_ARG_H

#include <stddef.h>

/* "FILE:<path>" or "file:///abs" -> a path (absolute, or relative to the
 * working directory), with ~ and ~user expanded. 0, BS_ERR_URL_INVALID for
 * another shape, BS_ERR_INVALID for an empty or too long path. */
int bs__rest_backend_path(char *out, size_t cap, const char *spec);

#endif
