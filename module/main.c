// SPDX-License-Identifier: GPL-2.0
/*
 * migtcp: TCP over raw IP between cluster-wide endpoints, with live
 * migration of connections.  Module entry points and parameters.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/net.h>

/* The tracepoints of trace.h are defined here. */
#define CREATE_TRACE_POINTS
#include "migtcp.h"

int migtcp_family = MIGTCP_FAMILY_DEFAULT;
module_param_named(family, migtcp_family, int, 0444);
MODULE_PARM_DESC(family, "address family number of AF_MIGTCP (default "
		 __stringify(MIGTCP_FAMILY_DEFAULT) ")");

int migtcp_proto = MIGTCP_PROTO_DEFAULT;
module_param_named(proto, migtcp_proto, int, 0444);
MODULE_PARM_DESC(proto, "IP protocol number of migtcp segments (default "
		 __stringify(MIGTCP_PROTO_DEFAULT) ")");

static int __init migtcp_check_params(void)
{
	if (migtcp_family <= AF_UNSPEC || migtcp_family >= NPROTO) {
		pr_err("family=%d is out of range (1..%d)\n",
		       migtcp_family, NPROTO - 1);
		return -EINVAL;
	}
	/* 0 is IPv6 hop-by-hop options and 255 is reserved (IPPROTO_RAW). */
	if (migtcp_proto <= 0 || migtcp_proto >= IPPROTO_RAW) {
		pr_err("proto=%d is out of range (1..%d)\n",
		       migtcp_proto, IPPROTO_RAW - 1);
		return -EINVAL;
	}
	return 0;
}

static int __init migtcp_init(void)
{
	int err;

	err = migtcp_check_params();
	if (err)
		return err;

	/* Before any packet or socket can start a key exchange. */
	err = migtcp_kx_register();
	if (err)
		return err;

	err = migtcp_mem_init();
	if (err)
		goto err_kx;

	err = proto_register(&migtcp_prot, 1);
	if (err)
		goto err_mem;

	err = migtcp_pernet_register();
	if (err)
		goto err_proto;

	err = migtcp_receive_register();
	if (err)
		goto err_pernet;

	err = migtcp_offload_register();
	if (err)
		goto err_receive;

	err = migtcp_netlink_register();
	if (err)
		goto err_offload;

	/* Last: once the family is registered, sockets can be created. */
	err = migtcp_socket_register();
	if (err)
		goto err_netlink;

	pr_info("loaded (family %d, protocol %d)\n", migtcp_family,
		migtcp_proto);
	return 0;

err_netlink:
	migtcp_netlink_unregister();
err_offload:
	migtcp_offload_unregister();
err_receive:
	migtcp_receive_unregister();
err_pernet:
	migtcp_pernet_unregister();
err_proto:
	proto_unregister(&migtcp_prot);
err_mem:
	migtcp_mem_exit();
err_kx:
	migtcp_kx_unregister();
	return err;
}

static void __exit migtcp_exit(void)
{
	migtcp_socket_unregister();
	migtcp_netlink_unregister();
	migtcp_offload_unregister();
	migtcp_receive_unregister();
	migtcp_pernet_unregister();
	proto_unregister(&migtcp_prot);
	migtcp_mem_exit();
	migtcp_kx_unregister();
	pr_info("unloaded\n");
}

module_init(migtcp_init);
module_exit(migtcp_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The migtcp authors");
MODULE_DESCRIPTION("migtcp: migratable TCP over raw IP between cluster endpoints");
