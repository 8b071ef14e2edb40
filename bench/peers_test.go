package bench

import (
	_ "github.com/go-chi/httprate"
	_ "github.com/go-chi/jwtauth/v5"
	_ "github.com/go-redis/redis_rate/v10"
	_ "github.com/golang-jwt/jwt/v5"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/rs/cors"
	_ "github.com/sethvargo/go-limiter/memorystore"
	_ "github.com/ulule/limiter/v3"
	_ "github.com/ulule/limiter/v3/drivers/store/memory"
	_ "github.com/ulule/limiter/v3/drivers/store/redis"
	_ "github.com/unrolled/secure"
	_ "golang.org/x/time/rate"

	_ "github.com/bulwark-go/bulwark/problem"
)
