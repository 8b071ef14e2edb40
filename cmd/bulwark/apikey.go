package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/authn/apikey"
)

// The environment variables the hashing secret is read from when
// --secret-file is not given: a file's path, or the secret itself.
const (
	envSecretFile = "BULWARK_APIKEY_SECRET_FILE"
	envSecret     = "BULWARK_APIKEY_SECRET"
)

const apikeyUsage = `Usage:
  bulwark apikey new --scopes read,write [--owner O] [--name N] [--roles R,...] [--ttl D] [--prefix P]
  bulwark apikey migrate --id LABEL --scopes read [--owner O] [--roles R,...]   (the existing key on stdin)

new makes an API key in Bulwark's format (prefix, identifier, secret of
143 bits from crypto/rand, CRC-32 checksum) and prints two lines on stdout:
the key — shown this once; give it to its holder — and the record to store,
one line of JSON holding only the key's HMAC-SHA-256 hash (the record format
of package authn/apikey, which the gateway's key file and Redis store read).

migrate prints the record of an existing key not in Bulwark's format (read
from stdin, one line), marked legacy: the migration path for keys issued
before Bulwark, accepted when the authenticator's Legacy option is on.

The hashing secret (at least 32 bytes; the servers that verify the keys must
have it too) comes from --secret-file FILE, else the file named by
$BULWARK_APIKEY_SECRET_FILE, else $BULWARK_APIKEY_SECRET itself. Make one:

  openssl rand -base64 48 > apikey.secret

Flags:
`

type apikeyFlags struct {
	fs                                  *flag.FlagSet
	owner, name, prefix, secretFile, id *string
	ttl                                 *time.Duration
	scopes, roles                       *string
}

func newAPIKeyFlags(cmd string) *apikeyFlags {
	f := &apikeyFlags{fs: flag.NewFlagSet("apikey "+cmd, flag.ContinueOnError)}
	fs := f.fs
	fs.Usage = printUsage(fs, apikeyUsage)
	f.scopes = fs.String("scopes", "", "comma-separated scopes the key grants, e.g. read,write")
	f.roles = fs.String("roles", "", "comma-separated roles the key grants")
	f.owner = fs.String("owner", "", "who the key acts for (the principal's subject; default: the key's id)")
	f.secretFile = fs.String("secret-file", "", "file holding the hashing secret (default: $"+envSecretFile+", else $"+envSecret+")")
	if cmd == "new" {
		f.name = fs.String("name", "", "a note on what the key is for")
		f.ttl = fs.Duration("ttl", 0, "lifetime of the key, e.g. 2160h (default: no expiry)")
		f.prefix = fs.String("prefix", apikey.DefaultPrefix, "key prefix, e.g. bwk_test_ for a test environment")
	} else {
		f.id = fs.String("id", "", "a label for the migrated key: letters, digits, '.', '_', '-' (required)")
	}
	return f
}

// runAPIKey implements `bulwark apikey`.
func runAPIKey(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError("apikey", "a subcommand is required: bulwark apikey new --scopes read,write")
	}
	cmd := args[0]
	switch cmd {
	case "new", "migrate":
	case "-h", "-help", "--help", "help":
		f := newAPIKeyFlags("new")
		f.fs.SetOutput(stdout)
		f.fs.Usage()
		return nil
	default:
		return usageError("apikey", "unknown subcommand %q; the subcommands are new and migrate", cmd)
	}
	f := newAPIKeyFlags(cmd)
	if help, err := parseFlags(f.fs, args[1:], stdout); help || err != nil {
		return err
	}
	scopes, roles := splitList(*f.scopes), splitList(*f.roles)
	if len(scopes) == 0 && len(roles) == 0 {
		return usageError("apikey "+cmd, "--scopes (or --roles) is required: a key that grants nothing is of no use")
	}
	for _, fl := range []struct {
		flag string
		list []string
	}{{"--scopes", scopes}, {"--roles", roles}} {
		flag := fl.flag
		for _, s := range fl.list {
			if !apikey.ValidGrant(s) {
				return usageError("apikey "+cmd, "%s: %q is not a valid scope or role: 1 to 128 printable characters without spaces, quotes or backslashes, separated by commas (e.g. %s read,write)", flag, s, flag)
			}
		}
	}
	secret, err := hashingSecret(*f.secretFile)
	if err != nil {
		return err
	}
	h, err := apikey.NewHasher(secret)
	if err != nil {
		return err
	}
	if cmd == "migrate" {
		if *f.id == "" {
			return usageError("apikey migrate", "--id is required")
		}
		line, err := bufio.NewReader(io.LimitReader(stdin, apikey.MaxKeyLen+2)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		key := strings.TrimRight(line, "\r\n")
		if key == "" || len(key) > apikey.MaxKeyLen {
			return fmt.Errorf("apikey migrate: give the existing key on stdin (one line, 1 to %d bytes)", apikey.MaxKeyLen)
		}
		rec, err := apikey.LegacyRecord(h, *f.id, key, scopes...)
		if err != nil {
			return err
		}
		rec.Owner, rec.Roles = *f.owner, roles
		return printRecord(stdout, rec)
	}
	if *f.ttl < 0 {
		return usageError("apikey new", "--ttl must not be negative")
	}
	key, rec, err := apikey.Generate(h, apikey.Spec{Prefix: *f.prefix, Owner: *f.owner, Name: *f.name, Scopes: scopes, Roles: roles, TTL: *f.ttl})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, key)
	if err := printRecord(stdout, rec); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "The key (first line) is shown this once: give it to its holder. Store the record (second line); it holds only the key's hash.")
	return nil
}

func printRecord(w io.Writer, rec apikey.Record) error {
	if _, err := apikey.NewEntry(rec); err != nil {
		return err
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// hashingSecret reads the hashing secret from file, else the
// environment, and refuses to go on without one.
func hashingSecret(file string) ([]byte, error) {
	if file == "" {
		file = os.Getenv(envSecretFile)
	}
	var b []byte
	switch {
	case file != "":
		var err error
		if b, err = os.ReadFile(file); err != nil {
			return nil, fmt.Errorf("reading the hashing secret: %w", err)
		}
		b = []byte(strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"))
	case os.Getenv(envSecret) != "":
		b = []byte(os.Getenv(envSecret))
	default:
		return nil, fmt.Errorf("no hashing secret: give --secret-file FILE, or set $%s (a file) or $%s (the secret); make one with: openssl rand -base64 48 > apikey.secret", envSecretFile, envSecret)
	}
	if len(b) < apikey.MinSecretLen {
		return nil, fmt.Errorf("the hashing secret is %d bytes; use at least %d (openssl rand -base64 48 > apikey.secret)", len(b), apikey.MinSecretLen)
	}
	return b, nil
}
