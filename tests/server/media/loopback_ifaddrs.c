/* Tests only: Janus skips loopback interfaces when it gathers ICE candidates (src/ice.c,
 * janus_ice_setup_local), so a peer on 127.0.0.1 could never reach it. Loaded with LD_PRELOAD,
 * this wraps getifaddrs() and clears IFF_LOOPBACK on "lo", so Janus offers 127.0.0.1 as its one
 * host candidate. Never used in a deployment (see deploy/README.md). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>

int getifaddrs(struct ifaddrs **ifap) {
    int (*real)(struct ifaddrs **) = (int (*)(struct ifaddrs **))dlsym(RTLD_NEXT, "getifaddrs");
    int result = real(ifap);
    if (result == 0) {
        for (struct ifaddrs *ifa = *ifap; ifa != NULL; ifa = ifa->ifa_next) {
            if (ifa->ifa_name != NULL && strcmp(ifa->ifa_name, "lo") == 0) {
                ifa->ifa_flags &= ~IFF_LOOPBACK;
            }
        }
    }
    return result;
}
