#include "cache_fixture.h"
