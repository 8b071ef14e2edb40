package jwt_test

import "context"

var bg = context.Background()
