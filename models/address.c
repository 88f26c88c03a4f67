#include "models/address.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "models/scenario.h"

#define FNV_OFFSET_BASIS UINT64_C(14695981039346656037)
#define FNV_PRIME        UINT64_C(1099511628211)

uint64_t address_domain_mailboxes(const struct provider *provider, size_t domain)
{
    uint64_t count = provider->domain_count;

    if (domain >= count || provider->mailboxes <= domain)
        return 0;
    /* Mailboxes domain, domain + count, domain + 2 * count, ... */
    return (provider->mailboxes - domain + count - 1) / count;
}

uint64_t address_domain_mailbox(const struct provider *provider, size_t domain,
                                uint64_t k)
{
    return (uint64_t)domain + k * (uint64_t)provider->domain_count;
}

int address_format(const struct scenario *scenario, const struct address *address,
                   char *buf, size_t n)
{
    if (address->provider >= scenario->provider_count)
        return -1;
    const struct provider *provider = &scenario->providers[address->provider];
    if (address->domain >= provider->domain_count)
        return -1;
    return snprintf(buf, n, "u%" PRIu64 "@%s", address->mailbox,
                    provider->domains[address->domain]);
}

bool address_equal(const struct address *a, const struct address *b)
{
    return a->provider == b->provider && a->domain == b->domain &&
           a->mailbox == b->mailbox;
}

bool address_find_domain(const struct scenario *scenario, const char *domain,
                         struct address *out)
{
    for (size_t p = 0; p < scenario->provider_count; p++) {
        const struct provider *provider = &scenario->providers[p];
        for (size_t d = 0; d < provider->domain_count; d++) {
            if (strcasecmp(provider->domains[d], domain) == 0) {
                out->provider = (uint32_t)p;
                out->domain = (uint32_t)d;
                return true;
            }
        }
    }
    return false;
}

/* Reads a local part "u<N>" (any case, canonical decimal N) into *number.
 * Returns false for any other local part, including N beyond 64 bits. */
static bool parse_numbered_local(const char *local, size_t length, uint64_t *number)
{
    if (length < 2 || tolower((unsigned char)local[0]) != 'u')
        return false;
    if (local[1] == '0' && length > 2)
        return false;

    uint64_t value = 0;
    for (size_t i = 1; i < length; i++) {
        if (!isdigit((unsigned char)local[i]))
            return false;
        unsigned digit = (unsigned)(local[i] - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return false;
        value = value * 10 + digit;
    }
    *number = value;
    return true;
}

static uint64_t hash_local(const char *local, size_t length)
{
    uint64_t hash = FNV_OFFSET_BASIS;

    for (size_t i = 0; i < length; i++) {
        hash ^= (uint64_t)tolower((unsigned char)local[i]);
        hash *= FNV_PRIME;
    }
    return hash;
}

static bool has_space_or_control(const char *text)
{
    for (const char *c = text; *c != '\0'; c++) {
        if (isspace((unsigned char)*c) || iscntrl((unsigned char)*c))
            return true;
    }
    return false;
}

/* Sets out->mailbox from the local part once out->provider and
 * out->domain are known. */
static bool resolve_mailbox(const struct scenario *scenario, const char *local,
                            size_t length, struct address *out, char *err, size_t n)
{
    const struct provider *provider = &scenario->providers[out->provider];
    uint64_t count = address_domain_mailboxes(provider, out->domain);
    if (count == 0) {
        snprintf(err, n, "domain '%s' has no mailboxes", provider->domains[out->domain]);
        return false;
    }

    uint64_t number;
    if (parse_numbered_local(local, length, &number) && number < provider->mailboxes &&
        number % provider->domain_count == out->domain) {
        out->mailbox = number;
        return true;
    }
    out->mailbox = address_domain_mailbox(provider, out->domain,
                                          hash_local(local, length) % count);
    return true;
}

bool address_parse(const struct scenario *scenario, const char *text,
                   struct address *out, char *err, size_t n)
{
    if (has_space_or_control(text)) {
        snprintf(err, n, "address contains a space or control character");
        return false;
    }
    const char *at = strrchr(text, '@');
    if (at == NULL) {
        snprintf(err, n, "missing '@' between local part and domain");
        return false;
    }
    size_t local_length = (size_t)(at - text);
    const char *domain = at + 1;
    if (local_length == 0) {
        snprintf(err, n, "empty local part before '@'");
        return false;
    }
    if (*domain == '\0') {
        snprintf(err, n, "empty domain after '@'");
        return false;
    }

    struct address found = { 0 };
    if (!address_find_domain(scenario, domain, &found)) {
        snprintf(err, n, "domain '%s' is not served by any provider", domain);
        return false;
    }
    if (!resolve_mailbox(scenario, text, local_length, &found, err, n))
        return false;
    *out = found;
    return true;
}
