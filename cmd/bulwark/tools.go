package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/bulwark-go/bulwark/password"
)

const hashPasswordUsage = `Usage: bulwark hash-password

Prints the argon2id hash of a password (a PHC string, $argon2id$v=19$...),
as password.Verify reads it. On a terminal it asks for the password twice,
without echo; otherwise it reads one line from stdin:

  bulwark hash-password < password.txt

Either way the password never appears in the process list or the shell
history. It has no flags.
`

// terminalFD returns the file descriptor of r when r is an interactive
// terminal; a variable so that tests can stand in for a terminal.
var terminalFD = func(r io.Reader) (int, bool) {
	f, ok := r.(*os.File)
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// readSecret reads one line from terminal fd without echoing it.
var readSecret = term.ReadPassword

// runHashPassword prints the argon2id hash of a password: asked for twice
// (prompts on stderr, no echo) when stdin is a terminal, else the first
// line of stdin.
func runHashPassword(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hash-password", flag.ContinueOnError)
	fs.Usage = printUsage(fs, hashPasswordUsage)
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	var pw string
	if fd, ok := terminalFD(stdin); ok {
		var err error
		if pw, err = askTwice(fd, stderr); err != nil {
			return err
		}
	} else {
		line, err := bufio.NewReader(io.LimitReader(stdin, password.MaxPasswordLen+2)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		pw = strings.TrimRight(line, "\r\n")
		if pw == "" {
			return errors.New("empty password on stdin")
		}
	}
	h, err := password.Hash(pw)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, h)
	return nil
}

// askTwice prompts on w for a password and its confirmation, read from
// terminal fd without echo.
func askTwice(fd int, w io.Writer) (string, error) {
	ask := func(prompt string) ([]byte, error) {
		fmt.Fprint(w, prompt)
		b, err := readSecret(fd)
		fmt.Fprintln(w) // the user's Enter was not echoed either
		return b, err
	}
	first, err := ask("Password: ")
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	if len(first) == 0 {
		return "", errors.New("empty password")
	}
	second, err := ask("Repeat the password: ")
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	if !bytes.Equal(first, second) {
		return "", errors.New("the passwords do not match; nothing was hashed")
	}
	return string(first), nil
}
