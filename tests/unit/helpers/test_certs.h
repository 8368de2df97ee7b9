/* Test certificates made on the fly: a CA and leaf certificates it signs
 * (EC P-256), written as PEM files into a temporary directory. */
#ifndef TEST_CERTS_H
#define TEST_CERTS_H

#include <stdbool.h>
#include <stddef.h>

struct test_ca;

/* A CA written to DIR/ca.crt. NULL on failure. */
struct test_ca *test_ca_new(const char *dir);
void test_ca_free(struct test_ca *ca);
/* DIR/NAME.crt and DIR/NAME.key for a leaf with the given DNS name (also its
 * CN) and an IP SAN when ip is not NULL. */
bool test_ca_issue(struct test_ca *ca, const char *dir, const char *name, const char *dns,
		   const char *ip);
/* mkdtemp under /tmp; the caller removes it with test_dir_remove. */
char *test_dir_new(void);
void test_dir_remove(char *dir);

#endif
