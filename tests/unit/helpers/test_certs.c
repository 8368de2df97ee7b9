#include "test_certs.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct test_ca {
	EVP_PKEY *key;
	X509 *cert;
};

static X509 *new_cert(const char *cn, EVP_PKEY *key, long serial)
{
	X509 *cert = X509_new();
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 86400L * 30);
	X509_set_pubkey(cert, key);
	X509_NAME *name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	return cert;
}

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
}

static bool write_pem(const char *dir, const char *name, const char *ext, X509 *cert, EVP_PKEY *key)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	FILE *f = fopen(path, "w");
	if (!f)
		return false;
	bool ok = cert ? PEM_write_X509(f, cert) == 1
		       : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
	return fclose(f) == 0 && ok;
}

struct test_ca *test_ca_new(const char *dir)
{
	struct test_ca *ca = calloc(1, sizeof(*ca));
	ca->key = EVP_EC_gen("P-256");
	ca->cert = new_cert("archeio test CA", ca->key, 1);
	X509_set_issuer_name(ca->cert, X509_get_subject_name(ca->cert));
	add_ext(ca->cert, ca->cert, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(ca->cert, ca->cert, NID_key_usage, "critical,keyCertSign,cRLSign");
	add_ext(ca->cert, ca->cert, NID_subject_key_identifier, "hash");
	if (X509_sign(ca->cert, ca->key, EVP_sha256()) == 0 ||
	    !write_pem(dir, "ca", "crt", ca->cert, NULL)) {
		test_ca_free(ca);
		return NULL;
	}
	return ca;
}

void test_ca_free(struct test_ca *ca)
{
	if (!ca)
		return;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	free(ca);
}

bool test_ca_issue(struct test_ca *ca, const char *dir, const char *name, const char *dns,
		   const char *ip)
{
	static long serial = 100;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = new_cert(dns, key, ++serial);
	X509_set_issuer_name(cert, X509_get_subject_name(ca->cert));
	char san[300];
	snprintf(san, sizeof(san), "DNS:%s%s%s", dns, ip ? ",IP:" : "", ip ? ip : "");
	add_ext(cert, ca->cert, NID_subject_alt_name, san);
	add_ext(cert, ca->cert, NID_basic_constraints, "critical,CA:FALSE");
	add_ext(cert, ca->cert, NID_ext_key_usage, "serverAuth");
	bool ok = X509_sign(cert, ca->key, EVP_sha256()) != 0 &&
		  write_pem(dir, name, "crt", cert, NULL) && write_pem(dir, name, "key", NULL, key);
	X509_free(cert);
	EVP_PKEY_free(key);
	return ok;
}

char *test_dir_new(void)
{
	char *dir = strdup("/tmp/archeio-test-XXXXXX");
	if (!mkdtemp(dir)) {
		free(dir);
		return NULL;
	}
	return dir;
}

void test_dir_remove(char *dir)
{
	if (!dir)
		return;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(dir);
}
