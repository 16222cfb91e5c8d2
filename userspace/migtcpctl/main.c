// SPDX-License-Identifier: GPL-2.0
/*
 * migtcpctl: the control tool of migtcp.  This file parses the global
 * options, prints the help and hands the command line to the object
 * it names (node, peer, sockets, stats, monitor, load, image).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <linux/migtcp.h>

#include "cmds.h"
#include "output.h"


struct object {
	const char *name;
	const char *alias;
	int (*run)(int argc, char **argv);
};

static const struct object objects[] = {
	{ "node",	NULL,		cmd_node },
	{ "peer",	"peers",	cmd_peer },
	{ "sockets",	"socket",	cmd_sockets },
	{ "stats",	"stat",		cmd_stats },
	{ "monitor",	NULL,		cmd_monitor },
	{ "load",	NULL,		cmd_load },
	{ "image",	NULL,		cmd_image },
};

static void print_help(void)
{
	printf("Usage: %s [OPTIONS] OBJECT [COMMAND [ARGS]]\n"
	       "\n"
	       "Configure and inspect migtcp, TCP between cluster-wide endpoints with live\n"
	       "migration, in the current network namespace (one namespace is one node).\n"
	       "\n"
	       "Options:\n"
	       "  -j, --json       print JSON instead of text\n"
	       "  -h, --help       print this help and exit\n"
	       "  -V, --version    print the version and exit\n"
	       "\n"
	       "Commands:\n"
	       "  node [show]                        this node: id, addresses, key, ports, peers\n"
	       "  node set [id N] [addr A] [addr A6] [key-file F] [port-range LO-HI]\n"
	       "                                     change them (at least one)\n"
	       "  peer [list]                        the peer table\n"
	       "  peer add ID addr A [addr A6]       add a peer\n"
	       "  peer replace ID addr A [addr A6]   change a peer's addresses\n"
	       "  peer del ID                        delete a peer\n"
	       "  peer probe [ID...] [timeout MS]    does each peer answer migtcp on this\n"
	       "                                     node's IP protocol number?\n"
	       "  sockets                            the AF_MIGTCP sockets of this node\n"
	       "  stats                              this node's counters\n"
	       "  monitor [count N]                  print changes of node and peers as they\n"
	       "                                     happen (stop after N)\n"
	       "  load FILE [id N]                   configure this node and its peers from\n"
	       "                                     a cluster file\n"
	       "  load --check FILE [id N]           validate a cluster file, apply nothing\n"
	       "  image show DIR                     decode the socket images of a CRIU\n"
	       "                                     image directory (migtcp-criu dump)\n"
	       "\n"
	       "An address A is IPv4 or IPv6; a node or peer has one of each family at most.\n"
	       "A key file holds the %d-byte cluster key as %d hex digits.  Changes need\n"
	       "CAP_NET_ADMIN.  Exit status: 0 success, 1 failure, 2 usage error.\n"
	       "See migtcpctl(8).\n",
	       progname, MIGTCP_KEY_LEN, 2 * MIGTCP_KEY_LEN);
}

static void print_version(void)
{
	printf("%s %s (generic netlink family %s, version %d)\n", progname,
	       MIGTCP_VERSION, MIGTCP_GENL_NAME, MIGTCP_GENL_VERSION);
}

/* Returns -1 to go on, or the exit status. */
static int parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,	NULL, 'j' },
		{ "help",	no_argument,	NULL, 'h' },
		{ "version",	no_argument,	NULL, 'V' },
		{ NULL,		0,		NULL, 0 },
	};
	int opt;

	opterr = 0;
	/* "+": options end at the object, as with ip(8). */
	while ((opt = getopt_long(argc, argv, "+jhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json_output = true;
			break;
		case 'h':
			print_help();
			return EXIT_OK;
		case 'V':
			print_version();
			return EXIT_OK;
		default:
			if (optopt)
				return usage_err("unknown option '-%c'", optopt);
			return usage_err("unknown option '%s'",
					 argv[optind - 1]);
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	const char *name;
	size_t i;
	int ret;

	ret = parse_options(argc, argv);
	if (ret >= 0)
		return ret;
	if (optind == argc)
		return usage_err("no object given (node, peer, sockets, stats, monitor, load or image)");
	name = argv[optind];
	if (!strcmp(name, "help")) {
		print_help();
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		if (!strcmp(name, objects[i].name) ||
		    (objects[i].alias && !strcmp(name, objects[i].alias)))
			return objects[i].run(argc - optind - 1,
					      argv + optind + 1);
	}
	return usage_err("unknown object '%s' (expected node, peer, sockets, stats, monitor, load or image)",
			 name);
}
