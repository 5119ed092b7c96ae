/* A plugin built for another interface version: Umbra must refuse it. */
#include "umbra-plugin.h"

const unsigned umbra_plugin_version = UMBRA_PLUGIN_VERSION + 1;

int umbra_plugin_install(const struct umbra_api *api, void *ctx)
{
    return 0;
}
