#include "manifest.h"
#include "digest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void free_descs(struct manifest_desc *descs, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(descs[i].digest);
		free(descs[i].media_type);
	}
	free(descs);
}

void manifest_free(struct manifest *m)
{
	free_descs(m->children, m->child_count);
	free_descs(m->blobs, m->blob_count);
	memset(m, 0, sizeof(*m));
}

/* Media type without parameters ("; charset=..."). */
static bool media_is(const char *value, const char *media)
{
	if (!value)
		return false;
	size_t len = strcspn(value, "; ");
	return len == strlen(media) && strncmp(value, media, len) == 0;
}

static bool is_index_type(const char *t)
{
	return media_is(t, MEDIA_OCI_INDEX) || media_is(t, MEDIA_DOCKER_LIST);
}

static bool is_image_type(const char *t)
{
	return media_is(t, MEDIA_OCI_MANIFEST) || media_is(t, MEDIA_DOCKER_MANIFEST);
}

/* Layers hosted elsewhere (Windows foreign layers) are not in the registry. */
static bool is_foreign(json_t *desc)
{
	json_t *urls = json_object_get(desc, "urls");
	return json_is_array(urls) && json_array_size(urls) > 0;
}

static bool read_desc(json_t *desc, const char *where, struct manifest_desc *out, char *err,
		      size_t errlen)
{
	const char *digest = json_string_value(json_object_get(desc, "digest"));
	json_t *size = json_object_get(desc, "size");
	const char *media = json_string_value(json_object_get(desc, "mediaType"));
	struct digest_ref ref;
	if (!json_is_object(desc) || !digest) {
		snprintf(err, errlen, "manifest: %s has no digest", where);
		return false;
	}
	if (!digest_parse(digest, &ref)) {
		snprintf(err, errlen, "manifest: %s digest \"%.80s\" is not sha256/sha512", where,
			 digest);
		return false;
	}
	if (!json_is_integer(size) || json_integer_value(size) < 0) {
		snprintf(err, errlen, "manifest: %s %s has no valid size", where, digest);
		return false;
	}
	out->digest = strdup(digest);
	out->media_type = media ? strdup(media) : NULL;
	out->size = (int64_t)json_integer_value(size);
	if (!out->digest || (media && !out->media_type)) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	return true;
}

static bool parse_index(json_t *root, struct manifest *out, char *err, size_t errlen)
{
	json_t *list = json_object_get(root, "manifests");
	if (!json_is_array(list)) {
		snprintf(err, errlen, "manifest: index has no \"manifests\" array");
		return false;
	}
	size_t n = json_array_size(list);
	out->kind = MANIFEST_INDEX;
	out->children = calloc(n ? n : 1, sizeof(*out->children));
	if (!out->children) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char where[48];
		snprintf(where, sizeof(where), "manifests[%zu]", i);
		out->child_count = i + 1;
		if (!read_desc(json_array_get(list, i), where, &out->children[i], err, errlen))
			return false;
	}
	return true;
}

static bool parse_image(json_t *root, struct manifest *out, char *err, size_t errlen)
{
	json_t *config = json_object_get(root, "config");
	json_t *layers = json_object_get(root, "layers");
	if (!json_is_object(config) || !json_is_array(layers)) {
		snprintf(err, errlen, "manifest: image manifest needs \"config\" and \"layers\"");
		return false;
	}
	size_t n = json_array_size(layers);
	out->kind = MANIFEST_IMAGE;
	out->blobs = calloc(n + 1, sizeof(*out->blobs));
	if (!out->blobs) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	out->blob_count = 1;
	if (!read_desc(config, "config", &out->blobs[0], err, errlen))
		return false;
	for (size_t i = 0; i < n; i++) {
		json_t *layer = json_array_get(layers, i);
		if (is_foreign(layer)) {
			out->skipped_foreign++;
			continue;
		}
		char where[48];
		snprintf(where, sizeof(where), "layers[%zu]", i);
		out->blob_count++;
		if (!read_desc(layer, where, &out->blobs[out->blob_count - 1], err, errlen))
			return false;
	}
	return true;
}

bool manifest_parse(const char *body, size_t len, const char *content_type, struct manifest *out,
		    char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr);
	if (!root) {
		snprintf(err, errlen, "manifest: invalid JSON at line %d: %s", jerr.line,
			 jerr.text);
		return false;
	}
	bool ok = false;
	const char *media = json_string_value(json_object_get(root, "mediaType"));
	json_t *schema = json_object_get(root, "schemaVersion");
	if (!json_is_object(root)) {
		snprintf(err, errlen, "manifest: not a JSON object");
	} else if (json_is_integer(schema) && json_integer_value(schema) == 1) {
		snprintf(err, errlen, "manifest: Docker schema 1 is not supported");
	} else if (is_index_type(media) || (!media && is_index_type(content_type)) ||
		   (!media && !is_image_type(content_type) &&
		    json_is_array(json_object_get(root, "manifests")))) {
		ok = parse_index(root, out, err, errlen);
	} else if (is_image_type(media) || is_image_type(content_type) ||
		   json_is_object(json_object_get(root, "config"))) {
		ok = parse_image(root, out, err, errlen);
	} else {
		snprintf(err, errlen, "manifest: unsupported media type \"%.100s\"",
			 media ? media : (content_type ? content_type : "(none)"));
	}
	json_decref(root);
	if (!ok)
		manifest_free(out);
	return ok;
}
