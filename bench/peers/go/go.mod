module kin/bench/peers/go

go 1.19
