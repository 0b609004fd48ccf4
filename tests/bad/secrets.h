/* The secret rows of the bad-input catalogue (issue 12, L1 to L4): the
 * credentials they run with, the answer of the scripted server (secrets of
 * every JSON type under secret members, the API key echoed JSON-escaped),
 * and the scan of every file a row wrote (reports, cassettes, the HAR
 * export, stdout, stderr) for any encoded form of any of them. */
#ifndef INGESTCHECK_TESTS_BAD_SECRETS_H
#define INGESTCHECK_TESTS_BAD_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

/* An API key with characters that need encoding in a URL, JSON and XML. */
#define BAD_SECRET_KEY "sk+LEAK/CHECK=1234\"q\\x&y<z>"
#define BAD_SECRET_APP "LEAKAPP0001"
/* The environment variable the case files read the key from. */
#define BAD_SECRET_KEY_ENV "IC_BAD_INPUT_KEY"
/* Userinfo of the base URL of the userinfo rows. */
#define BAD_SECRET_USERINFO "admin:hunter2PASS"
/* The Authorization header that userinfo must give. */
#define BAD_SECRET_BASIC "Basic YWRtaW46aHVudGVyMlBBU1M="

/* The scripted server's answer to a request whose head is head: a
 * getAuthentications list whose input holds password, client_secret,
 * apiKey, privateKey (an object), key (an array), extraToken (redacted
 * with --redact) and one undocumented property, plus the request's API key
 * echoed JSON-escaped twice (as cJSON does, and as HTML-safe encoders do:
 * \u003c, \/). Heap string (caller frees), NULL on ENOMEM. */
char *bad_secrets_body(const char *head);

/* Whether the request head carries BAD_SECRET_BASIC as its Authorization
 * header (the name in any case). */
bool bad_secrets_basic_auth(const char *head);

/* Exports every cassette under dir/cassettes to dir/export.har with the
 * ingestcheck binary; false (with why) when the export fails. */
bool bad_secrets_export_har(const char *dir, char *why, size_t cap);

/* Looks for every secret (the key, the application ID, the password, the
 * secret values of the answer) in every file under dir: raw,
 * percent-encoded (upper- and lower-case hex), JSON-escaped, XML-escaped
 * and base64. False, with the file and form in why, at the first found. */
bool bad_secrets_scan(const char *dir, char *why, size_t cap);

#endif
