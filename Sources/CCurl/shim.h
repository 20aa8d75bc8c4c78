#ifndef CLOUDBENCH_CCURL_SHIM_H
#define CLOUDBENCH_CCURL_SHIM_H
#include <curl/curl.h>
#endif
