-- Password sign-in of a random seeded user (user00000 … user<U-1>), every one a real argon2id verify.
dofile("common.lua")

function init(args)
  load_data(args)
end

request = signin_request
