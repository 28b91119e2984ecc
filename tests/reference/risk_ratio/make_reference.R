# Reference values for the risk ratio (ketastats.stats.risk_ratio; group_proportions' risk_ratio rows):
# Katz's log interval and Koopman's score interval, on the shipped ketamine vs ECT data and on 160 seeded
# generated 2 x 2 tables (small and unbalanced groups, zero cells, all-event groups). Run from the project root:
#   Rscript tests/reference/risk_ratio/make_reference.R
# Writes tests/reference/risk_ratio/reference.json (and versions.txt). Read by tests/stats/test_risk_ratio.py
# and tests/analyses/test_group_proportions.py.
#
# R functions: DescTools and PropCIs are not Debian packages here. PropCIs 0.3-0 (pure R) was installed from
# its CRAN source (R CMD INSTALL); when it is present, PropCIs::riskscoreci (Nam's closed-form cubic solution of
# Koopman's score equation) is stored as `koopman_propcis`. Katz's interval is DescTools 0.99.59
# BinomRatioCI(method = "katz.log") (asbio::ci.prat), whose code is copied below (katz_descTools) with its
# zero-cell rules. Koopman's interval is also computed here in base R from its definition
# ({phi : U(phi) <= qchisq(conf, 1)}, U Koopman's Pearson statistic at the constrained MLE) with uniroot at
# tol = 1e-14 on the log-ratio scale (`koopman_exact`). Non-finite values are written as the strings "Inf" and
# "NA" (the estimate of 0 / 0).
suppressPackageStartupMessages(library(jsonlite))
out <- "tests/reference/risk_ratio"
has_propcis <- requireNamespace("PropCIs", quietly = TRUE)

# DescTools 0.99.59 BinomRatioCI, method "katz.log" (x, m: events and size of group 1; y, n: group 2)
katz_descTools <- function(x, m, y, n, conf) {
  z.star <- qnorm(1 - (1 - conf)/2)
  if ((x == 0 & y == 0) | (x == 0 & y != 0) | (x != 0 & y == 0) | (x == m & y == n)) {
    if (x == 0 & y == 0) {CIL <- 0; CIU <- Inf; rat = 0; varhat = NA}
    if (x == 0 & y != 0) {CIL <- 0; rat <- (x/m)/(y/n); x <- 0.5; nrat <- (x/m)/(y/n)
      varhat <- (1/x) - (1/m) + (1/y) - (1/n); CIU <- nrat * exp(z.star * sqrt(varhat))}
    if (x != 0 & y == 0) {CIU <- Inf; rat <- (x/m)/(y/n); y <- 0.5; nrat <- (x/m)/(y/n)
      varhat <- (1/x) - (1/m) + (1/y) - (1/n); CIL <- nrat * exp(-1 * z.star * sqrt(varhat))}
    if (x == m & y == n) {
      rat <- (x/m)/(y/n); x <- m - 0.5; y <- n - 0.5; nrat <- (x/m)/(y/n); varhat <- (1/x) - (1/m) + (1/y) - (1/n)
      CIL <- nrat * exp(-1 * z.star * sqrt(varhat)); CIU <- nrat * exp(z.star * sqrt(varhat))
    }
  } else {
    rat <- (x/m)/(y/n); varhat <- (1/x) - (1/m) + (1/y) - (1/n)
    CIL <- rat * exp(-1 * z.star * sqrt(varhat)); CIU <- rat * exp(z.star * sqrt(varhat))
  }
  c(CIL, CIU)
}

# Koopman's statistic: Pearson chi-square at the MLE under p1 = phi * p2 (smaller root of the quadratic,
# clamped to the boundary p = 1, where a count equal to n adds 0)
koopman_u <- function(phi, x1, n1, x2, n2) {
  N <- n1 + n2; b <- phi * (n1 + x2) + x1 + n2; cc <- x1 + x2
  p2 <- min(2 * cc / (b + sqrt(max(b^2 - 4 * N * phi * cc, 0))), 1)
  p1 <- min(phi * p2, 1)
  u <- 0
  for (k in 1:2) {
    x <- c(x1, x2)[k]; n <- c(n1, n2)[k]; p <- c(p1, p2)[k]
    if (p > 0 && p < 1) u <- u + (x - n * p)^2 / (n * p * (1 - p))
    else if (abs(x - n * p) > 1e-9 * n) return(Inf)
  }
  u
}
koopman_exact <- function(x1, n1, x2, n2, conf) {
  z2 <- qchisq(conf, 1)
  if (x1 == 0 && x2 == 0) return(c(0, Inf))
  if (x1 == n1 && x2 == n2) return(c(n1 / (n1 + z2), (n2 + z2) / n2))
  f <- function(lp) koopman_u(exp(lp), x1, n1, x2, n2) - z2
  centre <- log(((if (x1 == 0) 0.5 else x1) / n1) / ((if (x2 == 0) 0.5 else x2) / n2))
  while (x1 == 0 && f(centre) >= 0) centre <- centre - 1
  while (x2 == 0 && f(centre) >= 0) centre <- centre + 1
  side <- function(dir) {
    step <- 1
    while (f(centre + dir * step) < 0) step <- 2 * step
    ends <- sort(c(if (step > 1) centre + dir * step / 2 else centre, centre + dir * step))
    exp(uniroot(f, ends, tol = 1e-14, maxiter = 10000)$root)
  }
  c(if (x1 == 0) 0 else side(-1), if (x2 == 0) Inf else side(1))
}

one <- function(x1, n1, x2, n2, conf, label) {
  k <- katz_descTools(x1, n1, x2, n2, conf)
  e <- koopman_exact(x1, n1, x2, n2, conf)
  row <- list(label = label, x1 = x1, n1 = n1, x2 = x2, n2 = n2, conf_level = conf,
              estimate = if (x1 == 0 && x2 == 0) NA else (x1 / n1) / (x2 / n2),
              katz_low = k[1], katz_high = k[2], koopman_low = e[1], koopman_high = e[2])
  if (has_propcis) {
    p <- suppressWarnings(PropCIs::riskscoreci(x1, n1, x2, n2, conf)$conf.int)
    row$koopman_propcis_low <- p[1]; row$koopman_propcis_high <- p[2]
  }
  row
}

# --- the shipped data: response and remission at the end of the course, ketamine vs ECT ---
dir <- "ketastats/datasets/ketamine_vs_ect"
participants <- read.csv(file.path(dir, "participants.csv"), stringsAsFactors = FALSE)
ratings <- read.csv(file.path(dir, "ratings.csv"), stringsAsFactors = FALSE)
ratings$arm <- participants$arm[match(ratings$participant_id, participants$participant_id)]
base <- ratings[ratings$visit == "baseline", c("participant_id", "hdrs17")]
ratings$hdrs_baseline <- base$hdrs17[match(ratings$participant_id, base$participant_id)]
ratings$responder <- 100 * (ratings$hdrs17 - ratings$hdrs_baseline) / ratings$hdrs_baseline <= -50
ratings$remitter <- ratings$hdrs17 <= 7
eot <- ratings[ratings$visit == "eot", ]
shipped <- list()
for (outcome in c("responder", "remitter")) {
  v <- eot[!is.na(eot[[outcome]]), ]
  x1 <- sum(v[[outcome]][v$arm == "ketamine"]); n1 <- sum(v$arm == "ketamine")
  x2 <- sum(v[[outcome]][v$arm == "ect"]); n2 <- sum(v$arm == "ect")
  shipped[[outcome]] <- one(x1, n1, x2, n2, 0.95, paste0("ketamine_vs_ect ", outcome, " at eot"))
}

# --- generated tables: forced edge cases, then seeded random ones ---
edges <- list(c(0, 10, 0, 12), c(0, 10, 4, 12), c(5, 10, 0, 12), c(10, 10, 12, 12), c(10, 10, 3, 12),
              c(3, 10, 12, 12), c(0, 4, 7, 7), c(10, 10, 0, 3), c(1, 1, 1, 2), c(1, 2, 1, 1), c(0, 1, 1, 1),
              c(1, 200, 30, 40), c(199, 200, 1, 300), c(8, 11, 3, 10), c(0, 300, 0, 2), c(2, 2, 0, 1))
designs <- list()
for (i in seq_along(edges)) {
  e <- edges[[i]]
  for (conf in c(0.9, 0.95, 0.99)) designs[[length(designs) + 1]] <- one(e[1], e[2], e[3], e[4], conf, paste("edge", i))
}
set.seed(20261201)
sizes <- c(1:12, 15, 20, 25, 30, 40, 60, 100, 250)
for (i in 1:112) {
  n1 <- sample(sizes, 1); n2 <- sample(sizes, 1)
  draw <- function(n) {
    r <- runif(1)
    if (r < 0.15) 0 else if (r < 0.25) n else rbinom(1, n, runif(1))
  }
  designs[[length(designs) + 1]] <- one(draw(n1), n1, draw(n2), n2, sample(c(0.9, 0.95, 0.99), 1), paste("random", i))
}
write(toJSON(list(shipped = shipped, designs = designs), auto_unbox = TRUE, digits = NA, na = "string"),
      file.path(out, "reference.json"))
writeLines(c(R.version.string, paste("PropCIs", if (has_propcis) as.character(packageVersion("PropCIs")) else "absent"),
             paste("jsonlite", packageVersion("jsonlite"))), file.path(out, "versions.txt"))
