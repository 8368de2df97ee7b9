/* Printing `archeio xdp status`: text lines or JSON. */
#include "archeio/xdp/xdp_status.h"

#include <inttypes.h>
#include <jansson.h>

static const char *const counter_names[COUNTER_CLOUD_BASE] = {
    [COUNTER_PACKETS] = "packets",	 [COUNTER_SYNS] = "syns",
    [COUNTER_TAGGED] = "tagged",	 [COUNTER_UNTAGGED] = "untagged",
    [COUNTER_TAG_ERRORS] = "tag_errors", [COUNTER_SYN_DROPS] = "syn_drops",
};

static const char *mode_name(uint32_t mode)
{
	return mode == ARCHEIO_ATTACH_NATIVE ? "native"
	       : mode == ARCHEIO_ATTACH_SKB  ? "skb"
					     : "none";
}

static const char *attached_name(int attached)
{
	return attached > 0 ? "yes" : attached == 0 ? "no" : "unknown";
}

static int format_text(const struct xdp_status_report *r, FILE *out)
{
	fprintf(out, "bpffs %s\n", r->bpffs_dir);
	fprintf(out, "interface %.*s\n", (int)sizeof(r->info.ifname),
		r->info.ifname[0] ? r->info.ifname : "-");
	fprintf(out, "ifindex %" PRIu32 "\n", r->info.ifindex);
	fprintf(out, "mode %s\n", mode_name(r->info.mode));
	fprintf(out, "program_id %" PRIu32 "\n", r->info.prog_id);
	fprintf(out, "attached %s\n", attached_name(r->attached));
	fprintf(out, "interface_program_id %" PRIu32 "\n", r->iface_prog_id);
	fprintf(out, "dispatcher %s\n", r->info.legacy ? "no" : "yes");
	fprintf(out, "generation %" PRIu32 "\n", r->info.generation);
	for (int i = 0; i < XDP_STATUS_MAP_COUNT; i++) {
		fprintf(out, "%s_entries %" PRIu64 "\n", r->maps[i].name, r->maps[i].entries);
		fprintf(out, "%s_max_entries %" PRIu32 "\n", r->maps[i].name,
			r->maps[i].max_entries);
	}
	for (int i = 0; i < COUNTER_CLOUD_BASE; i++)
		fprintf(out, "%s %" PRIu64 "\n", counter_names[i], r->counters[i]);
	for (int slot = 0; slot < ARCHEIO_CLOUD_SLOTS; slot++)
		if (r->clouds[slot].name[0])
			fprintf(out, "tagged_%.*s %" PRIu64 "\n", REGION_CLOUD_MAX,
				r->clouds[slot].name, r->counters[COUNTER_CLOUD_BASE + slot]);
	for (int slot = 0; slot < ARCHEIO_CLOUD_SLOTS; slot++)
		if (r->clouds[slot].name[0])
			fprintf(out, "syn_drops_%.*s %" PRIu64 "\n", REGION_CLOUD_MAX,
				r->clouds[slot].name, r->counters[COUNTER_DROP_CLOUD_BASE + slot]);
	return ferror(out) ? -1 : 0;
}

static json_t *report_json(const struct xdp_status_report *r)
{
	json_t *maps = json_object(), *counters = json_object(), *clouds = json_object();
	json_t *drops = json_object();
	char name[REGION_CLOUD_MAX + 1];

	for (int i = 0; i < XDP_STATUS_MAP_COUNT; i++)
		json_object_set_new(maps, r->maps[i].name,
				    json_pack("{s:I,s:I}", "entries",
					      (json_int_t)r->maps[i].entries, "max_entries",
					      (json_int_t)r->maps[i].max_entries));
	for (int i = 0; i < COUNTER_CLOUD_BASE; i++)
		json_object_set_new(counters, counter_names[i],
				    json_integer((json_int_t)r->counters[i]));
	for (int slot = 0; slot < ARCHEIO_CLOUD_SLOTS; slot++) {
		if (!r->clouds[slot].name[0])
			continue;
		snprintf(name, sizeof(name), "%.*s", REGION_CLOUD_MAX, r->clouds[slot].name);
		json_object_set_new(
		    clouds, name, json_integer((json_int_t)r->counters[COUNTER_CLOUD_BASE + slot]));
		json_object_set_new(
		    drops, name,
		    json_integer((json_int_t)r->counters[COUNTER_DROP_CLOUD_BASE + slot]));
	}
	json_object_set_new(counters, "tagged_by_cloud", clouds);
	json_object_set_new(counters, "syn_drops_by_cloud", drops);
	snprintf(name, sizeof(name), "%.*s", (int)sizeof(r->info.ifname), r->info.ifname);
	return json_pack("{s:s,s:s,s:I,s:s,s:I,s:s,s:I,s:b,s:I,s:o,s:o}", "bpffs", r->bpffs_dir,
			 "interface", name, "ifindex", (json_int_t)r->info.ifindex, "mode",
			 mode_name(r->info.mode), "program_id", (json_int_t)r->info.prog_id,
			 "attached", attached_name(r->attached), "interface_program_id",
			 (json_int_t)r->iface_prog_id, "dispatcher", !r->info.legacy, "generation",
			 (json_int_t)r->info.generation, "maps", maps, "counters", counters);
}

int xdp_status_format(const struct xdp_status_report *report, bool json, FILE *out)
{
	json_t *root;
	int rc;

	if (!json)
		return format_text(report, out);
	root = report_json(report);
	if (!root)
		return -1;
	rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', out);
	json_decref(root);
	return rc == 0 && !ferror(out) ? 0 : -1;
}
