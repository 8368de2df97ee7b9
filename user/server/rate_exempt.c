#include "rate_exempt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool add_prefix(struct rate_exempt *exempt, const struct ip_prefix *prefix)
{
	struct ip_prefix *grown =
	    realloc(exempt->prefixes, (exempt->prefix_count + 1) * sizeof(*grown));
	if (!grown)
		return false;
	exempt->prefixes = grown;
	exempt->prefixes[exempt->prefix_count++] = *prefix;
	return true;
}

/* "aws" or "aws:us-east-1"; false when a part is empty or too long. */
static bool parse_place(const char *text, struct rate_exempt_place *place)
{
	const char *colon = strchr(text, ':');
	size_t cloud_len = colon ? (size_t)(colon - text) : strlen(text);
	const char *region = colon ? colon + 1 : "";
	if (cloud_len == 0 || cloud_len >= sizeof(place->cloud) || (colon && !*region) ||
	    strlen(region) >= sizeof(place->region) || strchr(region, ':') || strchr(text, '/'))
		return false;
	memset(place, 0, sizeof(*place));
	memcpy(place->cloud, text, cloud_len);
	memcpy(place->region, region, strlen(region));
	return true;
}

static bool add_place(struct rate_exempt *exempt, const struct rate_exempt_place *place)
{
	struct rate_exempt_place *grown =
	    realloc(exempt->places, (exempt->place_count + 1) * sizeof(*grown));
	if (!grown)
		return false;
	exempt->places = grown;
	exempt->places[exempt->place_count++] = *place;
	return true;
}

static bool parse_one(struct rate_exempt *exempt, const char *text, char *err, size_t errlen)
{
	struct ip_prefix prefix;
	struct rate_exempt_place place;
	bool added;
	if (ip_prefix_parse(text, true, &prefix))
		added = add_prefix(exempt, &prefix);
	else if (parse_place(text, &place))
		added = add_place(exempt, &place);
	else {
		snprintf(err, errlen,
			 "--rate-limit-exempt: %s is neither a CIDR (without host bits) nor "
			 "CLOUD[:REGION]",
			 text);
		return false;
	}
	if (!added)
		snprintf(err, errlen, "--rate-limit-exempt: out of memory");
	return added;
}

bool rate_exempt_parse(struct rate_exempt *exempt, char *const *entries, size_t count, char *err,
		       size_t errlen)
{
	memset(exempt, 0, sizeof(*exempt));
	for (size_t i = 0; i < count; i++) {
		if (!parse_one(exempt, entries[i], err, errlen)) {
			rate_exempt_free(exempt);
			return false;
		}
	}
	return true;
}

void rate_exempt_free(struct rate_exempt *exempt)
{
	free(exempt->prefixes);
	free(exempt->places);
	memset(exempt, 0, sizeof(*exempt));
}

bool rate_exempt_has_places(const struct rate_exempt *exempt)
{
	return exempt->place_count > 0;
}

bool rate_exempt_matches_addr(const struct rate_exempt *exempt, const struct ip_addr *client)
{
	for (size_t i = 0; i < exempt->prefix_count; i++)
		if (ip_prefix_contains(&exempt->prefixes[i], client))
			return true;
	return false;
}

bool rate_exempt_matches_place(const struct rate_exempt *exempt, const char *cloud,
			       const char *region)
{
	if (!cloud)
		return false;
	for (size_t i = 0; i < exempt->place_count; i++) {
		const struct rate_exempt_place *p = &exempt->places[i];
		if (strcmp(p->cloud, cloud) == 0 &&
		    (!p->region[0] || strcmp(p->region, region) == 0))
			return true;
	}
	return false;
}
