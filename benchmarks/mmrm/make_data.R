set.seed(42); n <- 1000; m <- 10
arm <- rep(c("PBO","TRT"), length.out = n)
S <- 25 * 0.7^abs(outer(1:m, 1:m, "-"))
e <- matrix(rnorm(n*m), n, m) %*% chol(S)
y <- sapply(1:m, function(j) -j - 2*(arm=="TRT")*j/m) + e
miss <- matrix(runif(n*m) < 0.1, n, m); miss[,1] <- FALSE; y[miss] <- NA
d <- data.frame(USUBJID = sprintf("S%04d", rep(1:n, each=m)), ARMCD = rep(arm, each=m),
                AVISIT = sprintf("V%02d", rep(1:m, n)), Y = as.vector(t(y)))
write.csv(d, "bench.csv", row.names = FALSE, na = "")
