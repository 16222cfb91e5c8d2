/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The objects of the migtcpctl command line.  Each takes the arguments
 * after its name and returns the exit status.
 */
#ifndef MIGTCPCTL_CMDS_H
#define MIGTCPCTL_CMDS_H

int cmd_node(int argc, char **argv);
int cmd_peer(int argc, char **argv);
int cmd_sockets(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_image(int argc, char **argv);

#include <stdint.h>

/* The name of a TCP state number, as /proc/net/migtcp names it. */
const char *sock_state_name(uint8_t state);

#endif /* MIGTCPCTL_CMDS_H */
