/* http/tls: the policy a client meets (protocols, ALPN, SNI, resumption),
 * certificate loading errors, and the ticket key ring. Handshakes run over
 * in-memory BIO pairs: no sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "archeio/http/tls.h"
#include "archeio/http/tls_tickets.h"
#include "helpers/test_certs.h"

struct fixture {
	char *dir;
	char ca[600], a_crt[600], a_key[600], b_crt[600], b_key[600];
	struct tls_ticket_keys tickets;
	struct tls_server *server;
};

static int setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	f.dir = test_dir_new();
	struct test_ca *ca = test_ca_new(f.dir);
	if (!ca || !test_ca_issue(ca, f.dir, "a", "a.test", "198.18.0.1") ||
	    !test_ca_issue(ca, f.dir, "b", "b.test", NULL))
		return -1;
	test_ca_free(ca);
	snprintf(f.ca, sizeof(f.ca), "%s/ca.crt", f.dir);
	snprintf(f.a_crt, sizeof(f.a_crt), "%s/a.crt", f.dir);
	snprintf(f.a_key, sizeof(f.a_key), "%s/a.key", f.dir);
	snprintf(f.b_crt, sizeof(f.b_crt), "%s/b.crt", f.dir);
	snprintf(f.b_key, sizeof(f.b_key), "%s/b.key", f.dir);
	if (!tls_ticket_keys_init(&f.tickets, 3600, time(NULL)))
		return -1;
	const char *certs[] = {f.a_crt, f.b_crt}, *keys[] = {f.a_key, f.b_key};
	struct tls_settings settings = {certs, keys, 2, false, 100};
	char err[256];
	f.server = tls_server_load(&settings, &f.tickets, err, sizeof(err));
	if (!f.server) {
		fprintf(stderr, "load: %s\n", err);
		return -1;
	}
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tls_server_unref(f->server);
	tls_ticket_keys_destroy(&f->tickets);
	test_dir_remove(f->dir);
	return 0;
}

struct client_opts {
	const char *sni;
	const unsigned char *alpn; /* wire format */
	unsigned alpn_len;
	int max_version; /* 0: default */
	SSL_SESSION *resume;
};

struct handshake {
	bool ok;
	bool resumed;
	char peer_cn[128];
	char alpn[32];
	int version;
	SSL_SESSION *session; /* for resumption; caller frees */
};

/* Drives both ends over a BIO pair until both finish or one fails. */
static bool drive(SSL *client, SSL *server)
{
	bool client_done = false, server_done = false;
	for (int round = 0; round < 50 && !(client_done && server_done); round++) {
		if (!client_done) {
			int r = SSL_do_handshake(client);
			if (r == 1)
				client_done = true;
			else if (SSL_get_error(client, r) != SSL_ERROR_WANT_READ)
				return false;
		}
		if (!server_done) {
			int r = SSL_do_handshake(server);
			if (r == 1)
				server_done = true;
			else if (SSL_get_error(server, r) != SSL_ERROR_WANT_READ)
				return false;
		}
	}
	return client_done && server_done;
}

/* TLS 1.3 tickets arrive after the handshake: exchange a byte so the client reads them. */
static void exchange_byte(SSL *client, SSL *server)
{
	char c = 'x';
	SSL_write(server, &c, 1);
	SSL_read(client, &c, 1);
}

static struct handshake run_handshake(struct fixture *f, const struct client_opts *o)
{
	struct handshake h = {0};
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_load_verify_locations(cctx, f->ca, NULL);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	if (o->max_version)
		SSL_CTX_set_max_proto_version(cctx, o->max_version);
	SSL *client = SSL_new(cctx);
	SSL *server = tls_server_new_session(f->server);
	assert_non_null(server);
	BIO *cb, *sb;
	BIO_new_bio_pair(&cb, 0, &sb, 0);
	SSL_set_bio(client, cb, cb);
	SSL_set_bio(server, sb, sb);
	SSL_set_connect_state(client);
	if (o->sni)
		SSL_set_tlsext_host_name(client, o->sni);
	if (o->alpn)
		SSL_set_alpn_protos(client, o->alpn, o->alpn_len);
	if (o->resume)
		SSL_set_session(client, o->resume);
	h.ok = drive(client, server);
	if (h.ok) {
		exchange_byte(client, server);
		h.resumed = SSL_session_reused(client);
		h.version = SSL_version(client);
		X509 *peer = SSL_get1_peer_certificate(client);
		X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, h.peer_cn,
					  sizeof(h.peer_cn));
		X509_free(peer);
		const unsigned char *proto;
		unsigned proto_len;
		SSL_get0_alpn_selected(client, &proto, &proto_len);
		snprintf(h.alpn, sizeof(h.alpn), "%.*s", (int)proto_len, proto);
		h.session = SSL_get1_session(client);
		/* A client that closes cleanly: a session freed without close_notify
		 * is marked not resumable. */
		SSL_shutdown(client);
		SSL_shutdown(server);
	}
	ERR_clear_error();
	SSL_free(client);
	SSL_free(server);
	SSL_CTX_free(cctx);
	return h;
}

static const unsigned char ALPN_H1[] = "\x08http/1.1";
static const unsigned char ALPN_H2_ONLY[] = "\x02h2";
static const unsigned char ALPN_BOTH[] = "\x02h2\x08http/1.1";

static void default_certificate_verifies_and_speaks_http11(void **state)
{
	struct client_opts o = {.sni = "a.test", .alpn = ALPN_H1, .alpn_len = 9};
	struct handshake h = run_handshake(*state, &o);
	assert_true(h.ok);
	assert_string_equal(h.peer_cn, "a.test");
	assert_string_equal(h.alpn, "http/1.1");
	assert_int_equal(h.version, TLS1_3_VERSION);
	SSL_SESSION_free(h.session);
}

static void client_offering_h2_and_http11_gets_http11(void **state)
{
	struct client_opts o = {.sni = "a.test", .alpn = ALPN_BOTH, .alpn_len = 12};
	struct handshake h = run_handshake(*state, &o);
	assert_true(h.ok);
	assert_string_equal(h.alpn, "http/1.1");
	SSL_SESSION_free(h.session);
}

static void h2_only_client_is_refused(void **state)
{
	struct client_opts o = {.sni = "a.test", .alpn = ALPN_H2_ONLY, .alpn_len = 3};
	struct handshake h = run_handshake(*state, &o);
	assert_false(h.ok);
}

static void client_without_alpn_is_served(void **state)
{
	struct client_opts o = {.sni = "a.test"};
	struct handshake h = run_handshake(*state, &o);
	assert_true(h.ok);
	assert_string_equal(h.alpn, "");
	SSL_SESSION_free(h.session);
}

static void sni_picks_the_matching_certificate(void **state)
{
	struct client_opts o = {.sni = "b.test"};
	struct handshake h = run_handshake(*state, &o);
	assert_true(h.ok);
	assert_string_equal(h.peer_cn, "b.test");
	SSL_SESSION_free(h.session);
}

static void tls12_is_accepted_and_tls11_refused(void **state)
{
	struct client_opts o12 = {.sni = "a.test", .max_version = TLS1_2_VERSION};
	struct handshake h = run_handshake(*state, &o12);
	assert_true(h.ok);
	assert_int_equal(h.version, TLS1_2_VERSION);
	SSL_SESSION_free(h.session);
	struct client_opts o11 = {.sni = "a.test", .max_version = TLS1_1_VERSION};
	assert_false(run_handshake(*state, &o11).ok);
}

static void sessions_resume_in_tls13_and_tls12(void **state)
{
	int versions[] = {0, TLS1_2_VERSION};
	for (size_t i = 0; i < 2; i++) {
		struct client_opts o = {.sni = "a.test", .max_version = versions[i]};
		struct handshake first = run_handshake(*state, &o);
		assert_true(first.ok);
		assert_false(first.resumed);
		assert_non_null(first.session);
		o.resume = first.session;
		struct handshake second = run_handshake(*state, &o);
		assert_true(second.ok);
		assert_true(second.resumed);
		SSL_SESSION_free(first.session);
		SSL_SESSION_free(second.session);
	}
}

static void policy_options_are_set(void **state)
{
	struct fixture *f = *state;
	SSL *ssl = tls_server_new_session(f->server);
	uint64_t options = SSL_get_options(ssl);
	assert_true(options & SSL_OP_NO_COMPRESSION);
	assert_true(options & SSL_OP_NO_RENEGOTIATION);
	assert_false(options & SSL_OP_ENABLE_KTLS);
	assert_int_equal(SSL_get_min_proto_version(ssl), TLS1_2_VERSION);
	/* Only forward-secret AEAD suites for TLS 1.2. */
	STACK_OF(SSL_CIPHER) *ciphers = SSL_get_ciphers(ssl);
	for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(ciphers, i);
		assert_true(SSL_CIPHER_is_aead(c));
		int kx = SSL_CIPHER_get_kx_nid(c);
		assert_true(kx == NID_kx_ecdhe || kx == NID_kx_dhe || kx == NID_kx_any);
	}
	SSL_free(ssl);
}

static void ktls_option_is_passed_to_openssl(void **state)
{
	struct fixture *f = *state;
	const char *certs[] = {f->a_crt}, *keys[] = {f->a_key};
	struct tls_settings settings = {certs, keys, 1, true, 100};
	char err[256];
	struct tls_server *server = tls_server_load(&settings, NULL, err, sizeof(err));
	assert_non_null(server);
	SSL *ssl = tls_server_new_session(server);
	assert_true(SSL_get_options(ssl) & SSL_OP_ENABLE_KTLS);
	SSL_free(ssl);
	tls_server_unref(server);
}

static void load_errors_name_the_file(void **state)
{
	struct fixture *f = *state;
	char err[512], missing[700];
	snprintf(missing, sizeof(missing), "%s/missing.crt", f->dir);
	const char *bad_sets[][2] = {
	    {missing, f->a_key},  /* no such certificate */
	    {f->a_crt, f->b_key}, /* key of another certificate */
	    {f->a_key, f->a_key}, /* a key where the certificate should be */
	    {f->a_crt, f->ca},	  /* a certificate where the key should be */
	};
	const char *expect[] = {missing, "does not match", f->a_key, f->ca};
	for (size_t i = 0; i < 4; i++) {
		const char *certs[] = {bad_sets[i][0]}, *keys[] = {bad_sets[i][1]};
		struct tls_settings settings = {certs, keys, 1, false, 100};
		err[0] = '\0';
		assert_null(tls_server_load(&settings, NULL, err, sizeof(err)));
		assert_non_null(strstr(err, expect[i]));
	}
	struct tls_settings none = {NULL, NULL, 0, false, 100};
	assert_null(tls_server_load(&none, NULL, err, sizeof(err)));
}

static void ticket_keys_rotate_and_keep_the_previous(void **state)
{
	(void)state;
	struct tls_ticket_keys keys;
	assert_true(tls_ticket_keys_init(&keys, 100, 1000));
	struct tls_ticket_key first = keys.current, found;
	assert_false(tls_ticket_keys_rotate_if_due(&keys, 1099));
	assert_int_equal(tls_ticket_keys_find(&keys, first.name, &found), TLS_TICKET_CURRENT);
	assert_true(tls_ticket_keys_rotate_if_due(&keys, 1100));
	assert_memory_not_equal(keys.current.name, first.name, TLS_TICKET_NAME_LEN);
	assert_int_equal(tls_ticket_keys_find(&keys, first.name, &found), TLS_TICKET_PREVIOUS);
	assert_memory_equal(found.aes_key, first.aes_key, TLS_TICKET_SECRET_LEN);
	assert_true(tls_ticket_keys_rotate_if_due(&keys, 1200));
	assert_int_equal(tls_ticket_keys_find(&keys, first.name, &found), TLS_TICKET_UNKNOWN);
	tls_ticket_keys_destroy(&keys);
}

static void tickets_survive_a_certificate_reload(void **state)
{
	struct fixture *f = *state;
	struct client_opts o = {.sni = "a.test"};
	struct handshake first = run_handshake(f, &o);
	assert_true(first.ok);
	/* A reload: a new server from the same files and the same ticket ring. */
	const char *certs[] = {f->a_crt}, *keys[] = {f->a_key};
	struct tls_settings settings = {certs, keys, 1, false, 100};
	char err[256];
	struct tls_server *reloaded = tls_server_load(&settings, &f->tickets, err, sizeof(err));
	assert_non_null(reloaded);
	struct tls_server *old = f->server;
	f->server = reloaded;
	o.resume = first.session;
	struct handshake second = run_handshake(f, &o);
	f->server = old;
	tls_server_unref(reloaded);
	assert_true(second.ok);
	assert_true(second.resumed);
	SSL_SESSION_free(first.session);
	SSL_SESSION_free(second.session);
}

static void holder_swaps_and_counts_generations(void **state)
{
	struct fixture *f = *state;
	struct tls_holder holder;
	tls_holder_init(&holder, tls_server_ref(f->server));
	unsigned g1, g2;
	struct tls_server *s1 = tls_holder_acquire(&holder, &g1);
	assert_ptr_equal(s1, f->server);
	const char *certs[] = {f->b_crt}, *keys[] = {f->b_key};
	struct tls_settings settings = {certs, keys, 1, false, 100};
	char err[256];
	tls_holder_publish(&holder, tls_server_load(&settings, NULL, err, sizeof(err)));
	struct tls_server *s2 = tls_holder_acquire(&holder, &g2);
	assert_ptr_not_equal(s2, s1);
	assert_true(g2 != g1);
	char names[512];
	tls_server_describe(s2, names, sizeof(names));
	assert_non_null(strstr(names, "b.test"));
	tls_server_unref(s1);
	tls_server_unref(s2);
	tls_holder_destroy(&holder);
}

static void kernel_tls_probe_gives_an_answer_with_a_reason(void **state)
{
	(void)state;
	char why[256] = "";
	bool available = tls_kernel_tls_available(why, sizeof(why));
	/* Either answer is right for some kernel; a "no" must say why. */
	if (!available)
		assert_true(strlen(why) > 0);
	FILE *ulp = fopen("/proc/sys/net/ipv4/tcp_available_ulp", "r");
	if (ulp) {
		char line[256] = "";
		if (fgets(line, sizeof(line), ulp) && strstr(line, "tls"))
			assert_true(available);
		fclose(ulp);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(default_certificate_verifies_and_speaks_http11),
	    cmocka_unit_test(client_offering_h2_and_http11_gets_http11),
	    cmocka_unit_test(h2_only_client_is_refused),
	    cmocka_unit_test(client_without_alpn_is_served),
	    cmocka_unit_test(sni_picks_the_matching_certificate),
	    cmocka_unit_test(tls12_is_accepted_and_tls11_refused),
	    cmocka_unit_test(sessions_resume_in_tls13_and_tls12),
	    cmocka_unit_test(policy_options_are_set),
	    cmocka_unit_test(ktls_option_is_passed_to_openssl),
	    cmocka_unit_test(load_errors_name_the_file),
	    cmocka_unit_test(ticket_keys_rotate_and_keep_the_previous),
	    cmocka_unit_test(tickets_survive_a_certificate_reload),
	    cmocka_unit_test(holder_swaps_and_counts_generations),
	    cmocka_unit_test(kernel_tls_probe_gives_an_answer_with_a_reason),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
