/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Base64 of RFC 4648, standard alphabet, padded. The decoder is strict: no
 * whitespace, no URL-safe letters, '=' only as the final padding, and the
 * unused bits of the last character must be zero, so that every byte string
 * has exactly one accepted text form.
 */
#ifndef KPR_BASE64_H
#define KPR_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed for n bytes, without the NUL. */
#define KPR_B64_LEN(n) ((((n) + 2) / 3) * 4)

/* Writes the text and a NUL; -ENOSPC when len is short. */
int kpr_b64_encode(const uint8_t *in, size_t n, char *out, size_t len);
/* Decodes into out[cap]; returns the byte count, or -EINVAL for text that
 * is not strict base64, -E2BIG when it decodes to more than cap bytes. */
int kpr_b64_decode(const char *in, uint8_t *out, size_t cap);

#endif
