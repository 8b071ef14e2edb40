module github.com/bulwark-go/bulwark

go 1.25.0
