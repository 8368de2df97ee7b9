/* Lower-case hexadecimal, as OCI digests spell it ([0-9a-f] only: upper case
 * is not a digest's spelling). Pure. */
#ifndef ARCHEIO_CORE_HEX_H
#define ARCHEIO_CORE_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether s[0..len) is all lower-case hex digits (true for len 0). */
bool hex_lower_valid(const char *s, size_t len);
/* Decodes s[0..len) (len even) into out[len / 2]; false, with out
 * unspecified, when len is odd or any character is not [0-9a-f]. */
bool hex_lower_decode(const char *s, size_t len, uint8_t *out);

#endif
