# Reference values for the `subgroups` analysis (ketastats/analyses/subgroups.py).
# Run from the project root:  Rscript tests/reference/subgroups/make_reference.R
# Writes tests/reference/subgroups/reference.json: the data of every case and what R computes.
#
# Per case (an outcome y, a two-arm treatment g with levels "trt" / "ref", subgroup columns,
# optionally a numeric covariate x):
#   continuous y: within the overall sample and each subgroup level, lm(y ~ g (+ x), subset) ->
#                 coefficient of g, SE, t, df, p, confint.lm;
#                 interaction: anova(lm(y ~ g + s (+ x)), lm(y ~ g * s (+ x))) -> F, df, residual df, p
#   binary y:     glm(y ~ g (+ x), binomial, subset) -> exp(coef), SE (log scale), z, p, exp(confint.default);
#                 risk difference with Newcombe's hybrid score interval (from prop.test(correct = FALSE)
#                 Wilson limits) and the Wald interval (no covariates only);
#                 interaction: anova(glm(y ~ g + s (+ x)), glm(y ~ g * s (+ x)), test = "LRT")
# A level with one arm only, or a zero cell (separation) in a binary level, gets no estimate (NA): the
# python analysis gives a note there. R's lm / glm drop aliased columns (NA coefficients) in the
# interaction model; anova then uses the rank difference as df (the same in ketastats).
# Under separation R's glm warns ("fitted probabilities numerically 0 or 1") but anova still compares the
# deviances at glm.fit's stopping point; those warnings are expected here and suppressed.
suppressPackageStartupMessages(library(jsonlite))

out_dir <- "tests/reference/subgroups"

effect_continuous <- function(d, cov) {
  if (sum(d$g == "trt") == 0 || sum(d$g == "ref") == 0) return(NULL)
  f <- if (cov) y ~ g + x else y ~ g
  fit <- lm(f, data = d)
  if (is.na(coef(fit)["gtrt"]) || df.residual(fit) < 1) return(NULL)
  if (sum(residuals(fit)^2) < 1e-20) return(NULL)
  s <- summary(fit)$coefficients["gtrt", ]
  ci <- confint(fit)["gtrt", ]
  list(estimate = unname(s[1]), std_error = unname(s[2]), statistic = unname(s[3]), df = df.residual(fit),
       p_value = unname(s[4]), conf_low = unname(ci[1]), conf_high = unname(ci[2]))
}

wilson <- function(x, n) as.numeric(prop.test(x, n, correct = FALSE)$conf.int)

effect_binary <- function(d, cov) {
  n1 <- sum(d$g == "trt"); n2 <- sum(d$g == "ref")
  if (n1 == 0 || n2 == 0) return(NULL)
  x1 <- sum(d$y[d$g == "trt"]); x2 <- sum(d$y[d$g == "ref"])
  res <- list()
  if (!cov) {
    p1 <- x1 / n1; p2 <- x2 / n2
    l1 <- wilson(x1, n1); l2 <- wilson(x2, n2)
    res$rd <- p1 - p2
    res$rd_newcombe <- c(p1 - p2 - sqrt((p1 - l1[1])^2 + (l2[2] - p2)^2), p1 - p2 + sqrt((l1[2] - p1)^2 + (p2 - l2[1])^2))
    half <- qnorm(0.975) * sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    res$rd_wald <- c(p1 - p2 - half, p1 - p2 + half)
  }
  zero_cell <- min(x1, n1 - x1, x2, n2 - x2) == 0
  if (!zero_cell) {
    f <- if (cov) y ~ g + x else y ~ g
    fit <- suppressWarnings(glm(f, family = binomial, data = d))
    mu <- fitted(fit)
    if (!is.na(coef(fit)["gtrt"]) && all(mu > 1e-10 & mu < 1 - 1e-10)) {
      s <- summary(fit)$coefficients["gtrt", ]
      ci <- confint.default(fit)["gtrt", ]
      res$or <- list(estimate = exp(unname(s[1])), std_error = unname(s[2]), statistic = unname(s[3]),
                     p_value = unname(s[4]), conf_low = exp(unname(ci[1])), conf_high = exp(unname(ci[2])))
    }
  }
  res
}

interaction <- function(d, binary, cov) {
  d <- d[!is.na(d$s), ]
  d$s <- droplevels(factor(d$s))
  if (nlevels(d$s) < 2) return(NULL)
  f0 <- if (cov) y ~ g + s + x else y ~ g + s
  f1 <- if (cov) y ~ g * s + x else y ~ g * s
  if (binary) {
    m0 <- suppressWarnings(glm(f0, family = binomial, data = d))
    m1 <- suppressWarnings(glm(f1, family = binomial, data = d))
    a <- anova(m0, m1, test = "LRT")
    if (is.na(a$Df[2]) || a$Df[2] < 1) return(NULL)
    list(statistic = a$Deviance[2], df = a$Df[2], p_value = a[["Pr(>Chi)"]][2])
  } else {
    m0 <- lm(f0, data = d); m1 <- lm(f1, data = d)
    a <- anova(m0, m1)
    if (is.na(a$Df[2]) || a$Df[2] < 1 || a$Res.Df[2] < 1) return(NULL)
    list(statistic = a$F[2], df = a$Df[2], df_denominator = a$Res.Df[2], p_value = a[["Pr(>F)"]][2])
  }
}

run_case <- function(d, subgroups, binary, cov) {
  eff <- if (binary) effect_binary else effect_continuous
  rows <- list(list(subgroup = "overall", level = "all", result = eff(d, cov)))
  tests <- list()
  for (sg in subgroups) {
    d$s <- d[[sg]]
    tests[[sg]] <- interaction(d, binary, cov)
    for (lev in sort(unique(d$s[!is.na(d$s)]))) {
      rows[[length(rows) + 1]] <- list(subgroup = sg, level = lev, result = eff(d[!is.na(d$s) & d$s == lev, ], cov))
    }
  }
  list(rows = rows, tests = tests)
}

# --- generated designs -------------------------------------------------------------------------
set.seed(20261201)
cases <- list()
for (i in 1:120) {
  binary <- i %% 2 == 0
  cov <- i %% 3 == 0 && (i %% 4 != 0)      # some covariate-adjusted cases (continuous and binary)
  n <- sample(c(14, 20, 30, 45, 60, 90, 150), 1)
  p_trt <- sample(c(0.5, 0.5, 0.35, 0.7), 1)           # unbalanced allocation in some designs
  g <- ifelse(runif(n) < p_trt, "trt", "ref")
  if (length(unique(g)) < 2) g[1:2] <- c("trt", "ref")
  k <- sample(2:4, 1)
  probs <- if (i %% 5 == 0) c(0.06, rep(0.94 / (k - 1), k - 1)) else rep(1 / k, k)  # a small level
  s1 <- sample(paste0("L", 1:k), n, replace = TRUE, prob = probs)
  s2 <- sample(c("a", "b"), n, replace = TRUE)
  if (i %% 7 == 0) {                           # a level with one arm only
    s1[g == "ref" & s1 == "L1"] <- "L2"
    if (!any(s1 == "L1")) s1[which(g == "trt")[1]] <- "L1"
  }
  if (i %% 11 == 0) s2[sample(n, 3)] <- NA     # missing subgroup values
  x <- round(rnorm(n, 25, 4), 1)
  eff_level <- c(L1 = 0, L2 = 1, L3 = -1, L4 = 2)[s1]
  lin <- -0.3 + 0.8 * (g == "trt") + 0.4 * eff_level * (g == "trt") + 0.05 * (x - 25)
  if (binary) {
    y <- as.numeric(runif(n) < plogis(lin))
    if (i %% 8 == 0) y[g == "trt" & s2 %in% "a"] <- 1    # separation: every treated participant of s2 = a responds
    if (length(unique(y)) < 2) y[1:2] <- c(0, 1)
  } else {
    y <- round(lin * 4 + rnorm(n, 0, sample(c(2, 5, 8), 1)), 2)
  }
  d <- data.frame(y = y, g = g, s1 = s1, s2 = s2, x = x, stringsAsFactors = FALSE)
  d$g <- factor(d$g, levels = c("ref", "trt"))
  res <- run_case(d, c("s1", "s2"), binary, cov)
  cases[[i]] <- list(id = sprintf("design_%03d", i), binary = binary, covariate = cov,
                     data = list(y = y, g = g, s1 = s1, s2 = s2, x = x),
                     rows = res$rows, tests = res$tests)
}

# --- the shipped ketamine vs ECT example ---------------------------------------------------------
dir <- "ketastats/datasets/ketamine_vs_ect"
p <- read.csv(file.path(dir, "participants.csv"), stringsAsFactors = FALSE)
r <- read.csv(file.path(dir, "ratings.csv"), stringsAsFactors = FALSE)
base <- r[r$visit == "baseline", c("participant_id", "hdrs17")]; names(base)[2] <- "hdrs_baseline"
eot <- r[r$visit == "eot", c("participant_id", "hdrs17")]; names(eot)[2] <- "hdrs_eot"
p <- merge(merge(p, base, all.x = TRUE), eot, all.x = TRUE)
p$hdrs_change_eot <- p$hdrs_eot - p$hdrs_baseline
p$responder_eot <- as.numeric((p$hdrs_eot - p$hdrs_baseline) / p$hdrs_baseline * 100 <= -50)
p$age_group <- ifelse(p$age < 50, "< 50", "≥ 50")
p$severity <- ifelse(p$hdrs_baseline < 25, "< 25", "≥ 25")
p$g <- factor(ifelse(p$arm == "ketamine", "trt", "ref"), levels = c("ref", "trt"))
p$x <- p$hdrs_baseline
example <- list()
for (spec in list(list(id = "hdrs_change", y = "hdrs_change_eot", binary = FALSE, cov = FALSE),
                  list(id = "hdrs_change_ancova", y = "hdrs_change_eot", binary = FALSE, cov = TRUE),
                  list(id = "response", y = "responder_eot", binary = TRUE, cov = FALSE))) {
  d <- p[!is.na(p[[spec$y]]), ]
  d$y <- d[[spec$y]]
  res <- run_case(d, c("sex", "age_group", "severity"), spec$binary, spec$cov)
  example[[spec$id]] <- list(outcome = spec$y, binary = spec$binary, covariate = spec$cov, n = nrow(d),
                             rows = res$rows, tests = res$tests)
}

write_json(list(r_version = R.version.string, cases = cases, example = example),
           file.path(out_dir, "reference.json"), digits = NA, auto_unbox = TRUE, null = "null", na = "null",
           pretty = FALSE)
cat("wrote", length(cases), "designs and", length(example), "example analyses\n")
