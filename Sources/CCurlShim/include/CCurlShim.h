#ifndef CLOUDBENCH_CCURLSHIM_H
#define CLOUDBENCH_CCURLSHIM_H
#include <curl/curl.h>
#include <stdint.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call: one typed
// entry point per argument kind.
CURLcode cb_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode cb_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode cb_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode cb_curl_setopt_write_function(CURL *handle, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode cb_curl_setopt_header_function(CURL *handle, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode cb_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode cb_curl_getinfo_double(CURL *handle, CURLINFO info, double *value);
CURLcode cb_curl_getinfo_off_t(CURL *handle, CURLINFO info, int64_t *value);
CURLcode cb_curl_getinfo_string(CURL *handle, CURLINFO info, char **value);
CURLcode cb_curl_setopt_off_t(CURL *handle, CURLoption option, int64_t value);
// CURL_GLOBAL_DEFAULT is a macro expression Swift does not import.
CURLcode cb_curl_global_init(void);
#endif
