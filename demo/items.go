package demo

import (
	"crypto/rand"
	"net/http"
	"strconv"
	"sync"

	"github.com/bulwark-go/bulwark/authn"
	"github.com/bulwark-go/bulwark/authn/apikey"
	"github.com/bulwark-go/bulwark/bind"
)

// The demo's API keys: static keys, as a user migrating existing keys
// would configure them (legacy records, found by their HMAC). Like the
// demo accounts they are public and exist only in demo mode; keys Bulwark
// makes (`bulwark apikey new`) have its prefixed, checksummed format.
const (
	ReadAPIKey  = "demo-read-key-0001"  // scope read
	WriteAPIKey = "demo-write-key-0002" // scopes read, write
)

// newAPIKeys builds the API-key authenticator: a hashing secret drawn at
// start (the records are hashed with it here, as `bulwark apikey migrate`
// would print them), a static store holding only the hashes, legacy keys
// accepted.
func (a *App) newAPIKeys() (*apikey.Authenticator, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	h, err := apikey.NewHasher(secret)
	if err != nil {
		return nil, err
	}
	read, err := apikey.LegacyRecord(h, "demo-read", ReadAPIKey, "read")
	if err != nil {
		return nil, err
	}
	write, err := apikey.LegacyRecord(h, "demo-write", WriteAPIKey, "read", "write")
	if err != nil {
		return nil, err
	}
	read.Owner, write.Owner = "demo-reader", "demo-writer"
	keys, err := apikey.NewStatic(read, write)
	if err != nil {
		return nil, err
	}
	auth, err := apikey.New(apikey.Options{Store: keys, Secrets: [][]byte{secret}, Legacy: true, Now: a.cfg.Now})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, auth.Close)
	return auth, nil
}

// maxItems bounds the demo's item list (anyone with the public write key
// can add to it); the oldest items make room.
const maxItems = 1000

// Item is an entry of GET/POST /api/items.
type Item struct {
	ID      int    `json:"id"`
	Name    string `json:"name"`
	Creator string `json:"created_by"`
}

type items struct {
	mu   sync.Mutex
	next int
	list []Item
}

func newItems() *items {
	return &items{next: 3, list: []Item{{1, "widget", "demo"}, {2, "gadget", "demo"}}}
}

func (s *items) add(name, creator string) Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := Item{ID: s.next, Name: name, Creator: creator}
	s.next++
	if len(s.list) >= maxItems {
		s.list = append(s.list[:0], s.list[1:]...)
	}
	s.list = append(s.list, it)
	return it
}

func (s *items) all() []Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Item(nil), s.list...)
}

type itemRequest struct {
	Name string `json:"name" validate:"required,max=100"`
}

// listItems is GET /api/items (scope read, by JWT or API key).
func (a *App) listItems(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"items": a.items.all()})
}

// createItem is POST /api/items (scope write): a strict JSON body.
func (a *App) createItem(w http.ResponseWriter, r *http.Request) {
	in, p := bind.Decode[itemRequest](w, r)
	if p != nil {
		a.deny("items").Deny(w, r, p)
		return
	}
	who := "anonymous"
	if pr, ok := authn.FromContext(r.Context()); ok {
		who = pr.Method + ":" + pr.Subject
	}
	it := a.items.add(in.Name, who)
	w.Header().Set("Location", "/api/items/"+strconv.Itoa(it.ID))
	writeJSON(w, http.StatusCreated, it)
}
