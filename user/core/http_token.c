/* RFC 9110 token characters (see http_token.h). */
#include "archeio/core/http_token.h"

#include <string.h>

bool http_is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	/* strchr would match the terminating NUL, which is no tchar. */
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}
