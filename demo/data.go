package demo

import (
	"context"
	"slices"
	"strconv"
	"sync"

	"github.com/bulwark-go/bulwark/password"
)

// User is a demo account.
type User struct {
	Username     string   `json:"username"`
	Role         string   `json:"role"`
	Scopes       []string `json:"scopes"`
	passwordHash string
}

// Post is a demo blog post (RestMachine's ownership example).
type Post struct {
	ID        int    `json:"id"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	Owner     string `json:"owner"`
	Published bool   `json:"published"`
}

// data is the demo's application state. A real application keeps it in a
// database and queries it with parameterized statements; the demo keeps it
// in memory behind a mutex.
type data struct {
	users map[string]*User

	mu    sync.Mutex
	posts []Post
}

// Demo credentials. They are public: demo mode says so when it starts.
const (
	AliceUser     = "alice"
	AlicePassword = "wonderland-2026"
	BobUser       = "bob"
	BobPassword   = "builder-2026"
)

func newData() (*data, error) {
	d := &data{
		users: map[string]*User{},
		posts: []Post{
			{ID: 1, Title: "Welcome to Bulwark", Body: "Every protection on, by default.", Owner: AliceUser, Published: true},
			{ID: 2, Title: "Draft: rate limits", Body: "Notes on GCRA and sliding windows.", Owner: BobUser, Published: false},
		},
	}
	for _, u := range []struct {
		name, pw, role string
		scopes         []string
	}{
		{AliceUser, AlicePassword, "admin", []string{"read", "write"}},
		{BobUser, BobPassword, "user", []string{"read"}},
	} {
		h, err := password.Hash(u.pw) // argon2id; the plain passwords are never stored
		if err != nil {
			return nil, err
		}
		d.users[u.name] = &User{Username: u.name, Role: u.role, Scopes: u.scopes, passwordHash: h}
	}
	return d, nil
}

// checkPassword returns the user when name and pw match, within v's
// memory budget. An unknown name is checked against v's stand-in hash, so
// that a login for a missing user costs as much as one for a real user,
// and is refused (503) under load just as often: neither timing nor the
// budget tells which users exist. The error is password.ErrMismatch for
// bad credentials; any other is the budget's (see Verifier.Unavailable).
func (d *data) checkPassword(ctx context.Context, v *password.Verifier, name, pw string) (*User, error) {
	u, ok := d.users[name]
	hash := ""
	if ok {
		hash = u.passwordHash
	}
	if _, err := v.Verify(ctx, pw, hash); err != nil {
		return nil, err
	}
	return u, nil
}

func (d *data) post(id string) (Post, bool) {
	n, err := strconv.Atoi(id)
	if err != nil {
		return Post{}, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	i := slices.IndexFunc(d.posts, func(p Post) bool { return p.ID == n })
	if i < 0 {
		return Post{}, false
	}
	return d.posts[i], true
}

func (d *data) updatePost(p Post) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if i := slices.IndexFunc(d.posts, func(q Post) bool { return q.ID == p.ID }); i >= 0 {
		d.posts[i] = p
	}
}

func (d *data) deletePost(id int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.posts = slices.DeleteFunc(d.posts, func(p Post) bool { return p.ID == id })
}

func (d *data) listPosts() []Post {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.posts)
}
