// SPDX-License-Identifier: GPL-2.0
/*
 * Output of migtcpctl: error and usage messages, compact JSON lines,
 * address formatting and the aligned text tables of "peer list" and
 * "sockets".
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

#ifndef JSON_C_TO_STRING_NOSLASHESCAPE
#define JSON_C_TO_STRING_NOSLASHESCAPE 0
#endif

const char *progname = "migtcpctl";
bool json_output;

struct table {
	unsigned int ncols;
	size_t nrows;		/* the header included */
	size_t cap;
	char **cells;		/* nrows * ncols */
	bool *right_align;
};

static void vmsg(const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: ", progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void err_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

int usage_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", progname);
	return EXIT_USAGE;
}

void json_print(struct json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(obj);
}

const char *ipv4_str(uint32_t addr_be, char buf[IPV4_STR_LEN])
{
	struct in_addr in = { .s_addr = addr_be };

	return inet_ntop(AF_INET, &in, buf, IPV4_STR_LEN);
}

struct json_object *json_ipv4(bool is_set, uint32_t addr_be)
{
	char buf[IPV4_STR_LEN];

	if (!is_set)
		return NULL;	/* json-c's null */
	return json_object_new_string(ipv4_str(addr_be, buf));
}

const char *ipv6_str(const struct in6_addr *addr, char buf[IPV6_STR_LEN])
{
	return inet_ntop(AF_INET6, addr, buf, IPV6_STR_LEN);
}

struct json_object *json_ipv6(bool is_set, const struct in6_addr *addr)
{
	char buf[IPV6_STR_LEN];

	if (!is_set)
		return NULL;	/* json-c's null */
	return json_object_new_string(ipv6_str(addr, buf));
}

struct table *table_new(unsigned int ncols, const char *const *headers,
			const bool *right_align)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ncols = ncols;
	t->right_align = calloc(ncols, sizeof(*t->right_align));
	if (!t->right_align) {
		free(t);
		return NULL;
	}
	memcpy(t->right_align, right_align, ncols * sizeof(*right_align));
	if (!table_add_row(t, headers)) {
		table_free(t);
		return NULL;
	}
	return t;
}

static bool table_grow(struct table *t)
{
	size_t cap = t->cap ? 2 * t->cap : 16;
	char **cells;

	cells = reallocarray(t->cells, cap * t->ncols, sizeof(*cells));
	if (!cells)
		return false;
	t->cells = cells;
	t->cap = cap;
	return true;
}

bool table_add_row(struct table *t, const char *const *cells)
{
	char **row;
	unsigned int i;

	if (t->nrows == t->cap && !table_grow(t))
		return false;
	row = t->cells + t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		row[i] = strdup(cells[i]);
		if (!row[i]) {
			while (i--)
				free(row[i]);
			return false;
		}
	}
	t->nrows++;
	return true;
}

static int table_col_width(const struct table *t, unsigned int col)
{
	size_t width = 0, row;

	for (row = 0; row < t->nrows; row++) {
		size_t len = strlen(t->cells[row * t->ncols + col]);
		if (len > width)
			width = len;
	}
	return (int)width;
}

void table_print(const struct table *t)
{
	int width[t->ncols];
	unsigned int col;
	size_t row;
	const char *cell;

	for (col = 0; col < t->ncols; col++)
		width[col] = table_col_width(t, col);
	for (row = 0; row < t->nrows; row++) {
		for (col = 0; col < t->ncols; col++) {
			cell = t->cells[row * t->ncols + col];
			if (col == t->ncols - 1 && !t->right_align[col])
				printf("%s\n", cell);	/* no trailing blanks */
			else
				printf("%*s%s", t->right_align[col] ?
				       width[col] : -width[col], cell,
				       col == t->ncols - 1 ? "\n" : "  ");
		}
	}
	fflush(stdout);
}

void table_free(struct table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->right_align);
	free(t);
}
