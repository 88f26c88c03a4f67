/*
 * Mailbox addresses.  A provider's mailboxes are numbered 0 .. mailboxes-1
 * and spread round robin over its domains: mailbox m belongs to domain
 * m % domain_count.  The text form of mailbox m is "u<m>@<domain>".
 */
#ifndef MAILSIM_ADDRESS_H
#define MAILSIM_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct scenario;
struct provider;

struct address {
    uint32_t provider;         /* index into scenario->providers */
    uint32_t domain;           /* index into that provider's domains */
    uint64_t mailbox;          /* provider-wide index, < provider->mailboxes */
};

/* Number of mailboxes in domain `domain` of `provider`.  Zero when the
 * provider has fewer mailboxes than domains. */
uint64_t address_domain_mailboxes(const struct provider *provider, size_t domain);

/* Provider-wide index of the k-th mailbox (k counted from 0) of a domain.
 * Requires k < address_domain_mailboxes(provider, domain). */
uint64_t address_domain_mailbox(const struct provider *provider, size_t domain,
                                uint64_t k);

/* Looks up the provider and domain index of `domain`, ignoring case, and
 * stores them in out->provider and out->domain.  Returns false if no
 * provider serves the domain. */
bool address_find_domain(const struct scenario *scenario, const char *domain,
                         struct address *out);

/* Writes "u<mailbox>@<domain>" to buf like snprintf: returns the length of
 * the full text, which was truncated if it is >= n, or -1 if the address
 * names no provider or domain of the scenario. */
int address_format(const struct scenario *scenario, const struct address *address,
                   char *buf, size_t n);

/* Parses "local@domain".  The domain is matched case-insensitively against
 * every provider's domains.  A local part "u<N>" (decimal, no leading zeros,
 * any case) names mailbox N if N is a mailbox of that domain.  Any other
 * local part is hashed (FNV-1a, 64-bit, of the lower-cased text) onto the
 * domain's mailboxes, so the same name always gives the same mailbox.  The
 * last '@' separates the parts.  On error returns false and writes a
 * message without the address text into err. */
bool address_parse(const struct scenario *scenario, const char *text,
                   struct address *out, char *err, size_t n);

bool address_equal(const struct address *a, const struct address *b);

#endif
