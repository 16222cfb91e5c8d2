// SPDX-License-Identifier: GPL-2.0
/*
 * The AF_MIGTCP socket family: socket creation and the BSD socket
 * operations.  Operations the transport does not provide yet answer
 * EOPNOTSUPP through the kernel's sock_no_*() helpers rather than
 * pretending to succeed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/net.h>
#include <linux/poll.h>
#include <net/inet_sock.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "migtcp.h"

struct proto migtcp_prot = {
	.name		= "MIGTCP",
	.owner		= THIS_MODULE,
	.obj_size	= sizeof(struct migtcp_sock),
};

static int migtcp_release(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (!sk)
		return 0;

	migtcp_net_unlink_sock(sk);

	lock_sock(sk);
	sk->sk_shutdown = SHUTDOWN_MASK;
	migtcp_port_unbind(sk);
	sock_orphan(sk);
	release_sock(sk);

	sock->sk = NULL;
	sock_put(sk);
	return 0;
}

/*
 * Binds to (node, port): node 0 is this node, port 0 an ephemeral port.
 * Errors as inet_bind() gives them, except that an address of the wrong
 * family is EINVAL, as bind(2) documents.
 */
static int migtcp_bind(struct socket *sock, struct sockaddr *uaddr,
		       int addr_len)
{
	const struct sockaddr_mig *addr = (const struct sockaddr_mig *)uaddr;
	struct sock *sk = sock->sk;
	u16 port;
	int err;

	if (addr_len < (int)sizeof(*addr) || addr->smig_family != migtcp_family)
		return -EINVAL;
	port = ntohs(addr->smig_port);
	if (port && port < PROT_SOCK &&
	    !ns_capable(sock_net(sk)->user_ns, CAP_NET_BIND_SERVICE))
		return -EACCES;

	lock_sock(sk);
	if (sk->sk_state != TCP_CLOSE || migtcp_sk(sk)->local_port)
		err = -EINVAL;
	else
		err = migtcp_port_bind(sk, addr->smig_node, port);
	release_sock(sk);
	return err;
}

static int migtcp_getname(struct socket *sock, struct sockaddr *uaddr,
			  int peer)
{
	DECLARE_SOCKADDR(struct sockaddr_mig *, addr, uaddr);
	const struct migtcp_sock *msk = migtcp_sk(sock->sk);
	int state = inet_sk_state_load(sock->sk);

	memset(addr, 0, sizeof(*addr));
	addr->smig_family = migtcp_family;
	if (peer) {
		if (!READ_ONCE(msk->remote_port) ||
		    state == TCP_CLOSE || state == TCP_SYN_SENT)
			return -ENOTCONN;
		addr->smig_node = READ_ONCE(msk->remote_node);
		addr->smig_port = htons(READ_ONCE(msk->remote_port));
	} else {
		addr->smig_node = READ_ONCE(msk->local_node);
		addr->smig_port = htons(READ_ONCE(msk->local_port));
	}
	return sizeof(*addr);
}

/*
 * A socket that is not connected is in TCP_CLOSE; like TCP, report it
 * writable but hung up, so poll() never blocks on it.
 */
static __poll_t migtcp_poll(struct file *file, struct socket *sock,
			    poll_table *wait)
{
	struct sock *sk = sock->sk;
	__poll_t mask = 0;

	sock_poll_wait(file, sock, wait);

	if (inet_sk_state_load(sk) == TCP_CLOSE)
		mask |= EPOLLOUT | EPOLLWRNORM | EPOLLHUP;
	if (READ_ONCE(sk->sk_err))
		mask |= EPOLLERR;
	return mask;
}

/* No option exists below SOL_SOCKET yet: answer as TCP does for an unknown one. */
static int migtcp_setsockopt(struct socket *sock, int level, int optname,
			     sockptr_t optval, unsigned int optlen)
{
	return -ENOPROTOOPT;
}

static int migtcp_getsockopt(struct socket *sock, int level, int optname,
			     char __user *optval, int __user *optlen)
{
	return -ENOPROTOOPT;
}

/*
 * The core reads proto_ops.family only to recognise AF_UNIX; the family
 * that sockets are created in is the one registered, from the "family"
 * parameter.
 */
static const struct proto_ops migtcp_stream_ops = {
	.family		= PF_MIGTCP,
	.owner		= THIS_MODULE,
	.release	= migtcp_release,
	.bind		= migtcp_bind,
	.connect	= sock_no_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= sock_no_accept,
	.getname	= migtcp_getname,
	.poll		= migtcp_poll,
	.ioctl		= sock_no_ioctl,
	.listen		= sock_no_listen,
	.shutdown	= sock_no_shutdown,
	.setsockopt	= migtcp_setsockopt,
	.getsockopt	= migtcp_getsockopt,
	.sendmsg	= sock_no_sendmsg,
	.recvmsg	= sock_no_recvmsg,
	.mmap		= sock_no_mmap,
	.sendpage	= sock_no_sendpage,
};

static int migtcp_create(struct net *net, struct socket *sock, int protocol,
			 int kern)
{
	struct sock *sk;

	if (sock->type != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	if (protocol != 0 && protocol != migtcp_proto)
		return -EPROTONOSUPPORT;

	sk = sk_alloc(net, migtcp_family, GFP_KERNEL, &migtcp_prot, kern);
	if (!sk)
		return -ENOMEM;

	sock->state = SS_UNCONNECTED;
	sock->ops = &migtcp_stream_ops;
	sock_init_data(sock, sk);
	sk->sk_protocol = migtcp_proto;
	sk->sk_state = TCP_CLOSE;

	migtcp_net_link_sock(sk);
	return 0;
}

static struct net_proto_family migtcp_family_ops __ro_after_init = {
	.create	= migtcp_create,
	.owner	= THIS_MODULE,
};

int migtcp_socket_register(void)
{
	int err;

	migtcp_family_ops.family = migtcp_family;

	err = sock_register(&migtcp_family_ops);
	if (err == -EEXIST)
		pr_err("address family %d is already in use; load with family=N to pick a free slot\n",
		       migtcp_family);
	return err;
}

void migtcp_socket_unregister(void)
{
	sock_unregister(migtcp_family);
}
