#ifndef CLOUDBENCH_COPENSSL_SHIM_H
#define CLOUDBENCH_COPENSSL_SHIM_H
// Only libcrypto's digests: SHA-256 for uploads and fingerprints, HMAC-SHA1 for hashed known_hosts;
// and its initialisation, to start it without an exit handler (SSHSession.swift).
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#endif
