// SPDX-License-Identifier: GPL-2.0
/*
 * Reading and validating the cluster file (JSON, parsed by json-c):
 * syntax errors are reported with line and column, content errors with
 * the path of the offending value, such as "nodes[2].addr".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cluster.h"
#include "output.h"
#include "parse.h"

/* A cluster file is small; anything larger is a mistake. */
#define CLUSTER_MAX_SIZE	(4 << 20)

static void cl_err(const struct cluster *cl, const char *loc,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void cl_err(const struct cluster *cl, const char *loc,
		   const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (loc)
		err_msg("%s: %s: %s", cl->path, loc, msg);
	else
		err_msg("%s: %s", cl->path, msg);
}

static char *cl_read_text(const struct cluster *cl, size_t *len)
{
	char *text = NULL;
	FILE *f;

	f = fopen(cl->path, "re");
	if (!f) {
		err_msg("%s: cannot open: %s", cl->path, strerror(errno));
		return NULL;
	}
	text = malloc(CLUSTER_MAX_SIZE + 1);
	if (!text) {
		err_msg("%s: out of memory", cl->path);
	} else {
		*len = fread(text, 1, CLUSTER_MAX_SIZE + 1, f);
		if (ferror(f)) {
			err_msg("%s: cannot read: %s", cl->path,
				strerror(errno));
		} else if (*len > CLUSTER_MAX_SIZE) {
			err_msg("%s: larger than %d bytes", cl->path,
				CLUSTER_MAX_SIZE);
		} else {
			fclose(f);
			text[*len] = '\0';
			return text;
		}
		free(text);
	}
	fclose(f);
	return NULL;
}

/* "LINE:COL" (both from 1) of byte OFFSET of TEXT. */
static void cl_position(const char *text, size_t offset, char *buf,
			size_t len)
{
	unsigned int line = 1, col = 1;
	size_t i;

	for (i = 0; i < offset && text[i]; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	snprintf(buf, len, "%u:%u", line, col);
}

static bool cl_only_space(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return !*s;
}

static int cl_parse_json(struct cluster *cl, const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	enum json_tokener_error jerr;
	char pos[32];
	size_t end;

	if (!tok) {
		err_msg("%s: out of memory", cl->path);
		return -1;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	cl->root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	cl_position(text, end, pos, sizeof(pos));
	if (jerr == json_tokener_continue) {
		cl_err(cl, pos, "unexpected end of file");
		return -1;
	}
	if (jerr != json_tokener_success) {
		cl_err(cl, pos, "%s", json_tokener_error_desc(jerr));
		return -1;
	}
	if (!cl_only_space(text + end)) {
		cl_err(cl, pos, "unexpected text after the JSON document");
		return -1;
	}
	return 0;
}

/* VAL as compact JSON, for messages. */
static const char *cl_text(struct json_object *val)
{
	return json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN);
}

static bool cl_get_uint(const struct json_object *val, uint32_t min,
			uint32_t max, uint32_t *out)
{
	int64_t v;

	if (!json_object_is_type(val, json_type_int))
		return false;
	/* Values above INT64_MAX read as INT64_MAX: still out of range. */
	v = json_object_get_int64(val);
	if (v < min || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

static int cl_key_file(struct cluster *cl, const struct json_object *val)
{
	const char *name, *slash;
	char path[4096], err[128];
	int dirlen;

	if (!json_object_is_type(val, json_type_string) ||
	    !json_object_get_string_len(val)) {
		cl_err(cl, "key-file", "expected a file name");
		return -1;
	}
	name = json_object_get_string((struct json_object *)val);
	slash = strrchr(cl->path, '/');
	dirlen = name[0] == '/' || !slash ? 0 : (int)(slash - cl->path + 1);
	if (snprintf(path, sizeof(path), "%.*s%s", dirlen, cl->path, name) >=
	    (int)sizeof(path)) {
		cl_err(cl, "key-file", "file name too long");
		return -1;
	}
	if (read_key_file(path, cl->key, err, sizeof(err)) < 0) {
		cl_err(cl, "key-file", "%s: %s", path, err);
		return -1;
	}
	cl->has_key = true;
	return 0;
}

static int cl_port_range(struct cluster *cl, struct json_object *val)
{
	uint32_t lo, hi;

	if (!json_object_is_type(val, json_type_array) ||
	    json_object_array_length(val) != 2 ||
	    !cl_get_uint(json_object_array_get_idx(val, 0), 1, 65535, &lo) ||
	    !cl_get_uint(json_object_array_get_idx(val, 1), 1, 65535, &hi)) {
		cl_err(cl, "port-range",
		       "expected [LO, HI], two ports from 1 to 65535, got %s",
		       cl_text(val));
		return -1;
	}
	if (lo > hi) {
		cl_err(cl, "port-range", "the first port, %u, is above the second, %u",
		       lo, hi);
		return -1;
	}
	cl->port_min = (uint16_t)lo;
	cl->port_max = (uint16_t)hi;
	cl->has_ports = true;
	return 0;
}

/* The first of nodes[0..n-1] that has the same id, address or host. */
static int cl_check_unique(const struct cluster *cl, size_t n,
			   const char *loc)
{
	const struct cluster_node *node = &cl->nodes[n], *other;
	char addr[IPV6_STR_LEN];
	size_t i;

	for (i = 0; i < n; i++) {
		other = &cl->nodes[i];
		if (other->id == node->id) {
			cl_err(cl, loc, "id %u is already the id of nodes[%zu]",
			       node->id, i);
			return -1;
		}
		if (node->has_addr && other->has_addr &&
		    other->addr == node->addr) {
			cl_err(cl, loc, "addr %s is already the address of nodes[%zu]",
			       ipv4_str(node->addr, addr), i);
			return -1;
		}
		if (node->has_addr6 && other->has_addr6 &&
		    IN6_ARE_ADDR_EQUAL(&other->addr6, &node->addr6)) {
			cl_err(cl, loc, "addr6 %s is already the address of nodes[%zu]",
			       ipv6_str(&node->addr6, addr), i);
			return -1;
		}
		if (node->host && cl->nodes[i].host &&
		    !strcmp(cl->nodes[i].host, node->host)) {
			cl_err(cl, loc, "host \"%s\" is already the host of nodes[%zu]",
			       node->host, i);
			return -1;
		}
	}
	return 0;
}

/*
 * Is VAL a string holding an IPv6 (IPv4) address?  For the hint that an
 * address of the other family goes in the other member.
 */
static bool cl_is_ipv6(struct json_object *val)
{
	struct in6_addr a6;

	return json_object_is_type(val, json_type_string) &&
	       parse_ipv6(json_object_get_string(val), &a6);
}

static bool cl_is_ipv4(struct json_object *val)
{
	uint32_t a4;

	return json_object_is_type(val, json_type_string) &&
	       parse_ipv4(json_object_get_string(val), &a4);
}

/*
 * "addr" of a node, at WHERE: an IPv4 address the kernel takes as an
 * underlay address (as cl_node_addr6()).
 */
static int cl_node_addr(struct cluster *cl, struct cluster_node *node,
			const char *where, struct json_object *val)
{
	const char *why;

	if (!json_object_is_type(val, json_type_string) ||
	    !parse_ipv4(json_object_get_string(val), &node->addr)) {
		cl_err(cl, where, "expected a dotted-quad IPv4 address, got %s%s",
		       cl_text(val),
		       cl_is_ipv6(val) ? " (an IPv6 address goes in \"addr6\")" :
					 "");
		return -1;
	}
	why = ipv4_underlay_error(node->addr);
	if (why) {
		cl_err(cl, where, "%s is %s, not a unicast address",
		       json_object_get_string(val), why);
		return -1;
	}
	node->has_addr = true;
	return 0;
}

/*
 * "addr6" of a node, at WHERE: an IPv6 address the kernel takes as an
 * underlay address, so that a file that passes here is not refused half
 * applied.
 */
static int cl_node_addr6(struct cluster *cl, struct cluster_node *node,
			 const char *where, struct json_object *val)
{
	const char *why;

	if (!json_object_is_type(val, json_type_string) ||
	    !parse_ipv6(json_object_get_string(val), &node->addr6)) {
		cl_err(cl, where, "expected an IPv6 address, got %s%s",
		       cl_text(val),
		       cl_is_ipv4(val) ? " (an IPv4 address goes in \"addr\")" :
					 "");
		return -1;
	}
	why = ipv6_underlay_error(&node->addr6);
	if (why) {
		cl_err(cl, where, "%s is %s, not a global unicast address",
		       json_object_get_string(val), why);
		return -1;
	}
	node->has_addr6 = true;
	return 0;
}

/* One member KEY = VAL of nodes[N], whose location is LOC. */
static int cl_node_member(struct cluster *cl, struct cluster_node *node,
			  const char *loc, const char *key,
			  struct json_object *val)
{
	char where[48];

	snprintf(where, sizeof(where), "%s.%s", loc, key);
	if (!strcmp(key, "id")) {
		if (cl_get_uint(val, 1, UINT32_MAX, &node->id))
			return 0;
		cl_err(cl, where, "expected an integer from 1 to %u, got %s",
		       UINT32_MAX, cl_text(val));
		return -1;
	}
	if (!strcmp(key, "addr"))
		return cl_node_addr(cl, node, where, val);
	if (!strcmp(key, "addr6"))
		return cl_node_addr6(cl, node, where, val);
	if (!strcmp(key, "host")) {
		if (json_object_is_type(val, json_type_string) &&
		    json_object_get_string_len(val)) {
			node->host = json_object_get_string(val);
			return 0;
		}
		cl_err(cl, where, "expected a host name, got %s",
		       cl_text(val));
		return -1;
	}
	cl_err(cl, loc, "unknown key \"%s\" (expected id, host, addr, addr6)",
	       key);
	return -1;
}

static int cl_node(struct cluster *cl, size_t n, struct json_object *obj)
{
	struct cluster_node *node = &cl->nodes[n];
	char loc[32];

	snprintf(loc, sizeof(loc), "nodes[%zu]", n);
	if (!json_object_is_type(obj, json_type_object)) {
		cl_err(cl, loc, "expected an object with id, host, addr and addr6");
		return -1;
	}
	json_object_object_foreach(obj, key, val) {
		if (cl_node_member(cl, node, loc, key, val) < 0)
			return -1;
	}
	if (!node->id) {
		cl_err(cl, loc, "no \"id\"");
		return -1;
	}
	if (!node->has_addr && !node->has_addr6) {
		cl_err(cl, loc, "no \"addr\" or \"addr6\": a node needs an IPv4 or an IPv6 address");
		return -1;
	}
	return cl_check_unique(cl, n, loc);
}

static int cl_nodes(struct cluster *cl, struct json_object *val)
{
	size_t i, n;

	if (!json_object_is_type(val, json_type_array) ||
	    !json_object_array_length(val)) {
		cl_err(cl, "nodes", "expected a non-empty array of nodes");
		return -1;
	}
	n = json_object_array_length(val);
	cl->nodes = calloc(n, sizeof(*cl->nodes));
	if (!cl->nodes) {
		err_msg("%s: out of memory", cl->path);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (cl_node(cl, i, json_object_array_get_idx(val, i)) < 0)
			return -1;
		cl->nnodes++;
	}
	return 0;
}

static int cl_top_member(struct cluster *cl, const char *key,
			 struct json_object *val)
{
	if (!strcmp(key, "key-file"))
		return cl_key_file(cl, val);
	if (!strcmp(key, "port-range"))
		return cl_port_range(cl, val);
	if (!strcmp(key, "nodes"))
		return cl_nodes(cl, val);
	cl_err(cl, NULL, "unknown key \"%s\" (expected key-file, port-range, nodes)",
	       key);
	return -1;
}

static int cl_validate(struct cluster *cl)
{
	if (!json_object_is_type(cl->root, json_type_object)) {
		cl_err(cl, NULL, "expected a JSON object with \"nodes\"");
		return -1;
	}
	json_object_object_foreach(cl->root, key, val) {
		if (cl_top_member(cl, key, val) < 0)
			return -1;
	}
	if (!cl->nodes) {
		cl_err(cl, NULL, "no \"nodes\"");
		return -1;
	}
	return 0;
}

int cluster_read(const char *path, struct cluster *cl)
{
	size_t len;
	char *text;
	int ret;

	memset(cl, 0, sizeof(*cl));
	cl->path = path;
	text = cl_read_text(cl, &len);
	if (!text)
		return -1;
	ret = cl_parse_json(cl, text, len);
	free(text);
	if (ret == 0)
		ret = cl_validate(cl);
	if (ret < 0)
		cluster_free(cl);
	return ret;
}

void cluster_free(struct cluster *cl)
{
	json_object_put(cl->root);
	free(cl->nodes);
	explicit_bzero(cl->key, sizeof(cl->key));
	cl->root = NULL;
	cl->nodes = NULL;
	cl->nnodes = 0;
}

long cluster_find_id(const struct cluster *cl, uint32_t id)
{
	size_t i;

	for (i = 0; i < cl->nnodes; i++)
		if (cl->nodes[i].id == id)
			return (long)i;
	return -1;
}
