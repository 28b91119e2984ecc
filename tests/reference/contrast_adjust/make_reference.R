# Reference values for Tukey and Dunnett adjustment of emmeans contrasts (ketastats.stats.simultaneous;
# mixed_model / mmrm contrasts with adjust: tukey | dunnett), on the shipped ketamine vs ECT data and on 122
# seeded generated designs (between- and within-subject factors, 3 to 5 levels, 6 to 40 subjects, unbalanced,
# some with a `by` factor). Run from the project root:
#   Rscript tests/reference/contrast_adjust/make_reference.R            # shipped data + designs 1..175
#   Rscript tests/reference/contrast_adjust/make_reference.R 121 175    # only designs 121..175, appended
# (each design has its own seed, so a run in parts writes the same rows as one run). Fits that are singular,
# rank-deficient or fail are skipped: 175 candidates give the designs in designs.csv.
# Writes designs.csv, data.csv.gz, contrasts.csv.gz and versions.txt here. Read by
# tests/analyses/test_contrast_adjust.py.
#
# R: lmerTest::lmer (REML), emmeans(fit, ~ g | h, lmer.df = "satterthwaite" | "kenward-roger"), then
# pairs(emm, adjust = "tukey") and contrast(emm, "trt.vs.ctrl", ref = 1, adjust = "mvt") (emmeans' exact
# Dunnett; "dunnettx" is its approximation) with confint(..., adjust = same): columns p_adjusted_emmeans,
# conf_low_emmeans, conf_high_emmeans. emmeans' Tukey is ptukey / qtukey (qtukey stops at 1e-4); its mvt calls
# mvtnorm::pmvt / qmvt with GenzBretz(maxpts = 25000, abseps = 0.001), randomized: set.seed(1) before each
# summary. Precise values beside them: Tukey ptukey and a uniroot (tol 1e-12) quantile of ptukey; mvt
# 1 - pmvt(-|t|, |t|, df = fix_df(df), corr) (emmeans' .fix.df: floor(df + 0.25)) with GenzBretz(maxpts = 4e5, abseps = 5e-6) after set.seed(1)
# (error attribute stored: p_adjusted_error) and the quantile by uniroot (tol 1e-6) on that pmvt
# (crit_precise); corr = cov2cor(vcov(contrasts)) of the family (one `by` level).
suppressPackageStartupMessages({library(lme4); library(lmerTest); library(pbkrtest); library(emmeans); library(mvtnorm)})
out <- "tests/reference/contrast_adjust"
emm_options(lmerTest.limit = 1e6, pbkrtest.limit = 1e6)
# emmeans' df for mvtnorm (emmeans:::.fix.df): at least 1, floor(df + 0.25), 0 (normal) past 9999
fix_df <- function(d) { d <- max(1, d); if (is.infinite(d) || d > 9999) 0L else as.integer(floor(d + 0.25)) }
gb <- GenzBretz(maxpts = 4e5, abseps = 5e-6, releps = 0)

precise_mvt <- function(t, df, corr, level) {
  k <- length(t)
  p <- err <- crit <- numeric(k)
  crits <- list()
  for (i in seq_len(k)) {
    nu <- fix_df(df[i])
    set.seed(1)
    v <- pmvt(rep(-abs(t[i]), k), rep(abs(t[i]), k), df = nu, corr = corr, algorithm = gb)
    p[i] <- 1 - v; err[i] <- attr(v, "error")
    key <- as.character(nu)
    if (is.null(crits[[key]])) {
      f <- function(cv) { set.seed(1); pmvt(rep(-cv, k), rep(cv, k), df = nu, corr = corr, algorithm = gb) - level }
      crits[[key]] <- uniroot(f, c(qt(0.5 + level / 2, nu), qt(1 - (1 - level) / (2 * k), nu) + 1e-3), tol = 1e-6)$root
    }
    crit[i] <- crits[[key]]
  }
  list(p = p, err = err, crit = crit)
}

family_rows <- function(design, fit, target, by, mode, adjust, level = 0.95) {
  form <- if (is.null(by)) as.formula(paste("~", target)) else as.formula(paste("~", target, "|", by))
  emm <- emmeans(fit, form, lmer.df = mode)
  con <- if (adjust == "tukey") pairs(emm) else contrast(emm, "trt.vs.ctrl", ref = 1)
  set.seed(1)
  s <- as.data.frame(summary(con, infer = c(TRUE, TRUE), adjust = adjust, level = level))
  V <- vcov(con)
  by_values <- if (is.null(by)) rep("", nrow(s)) else as.character(s[[by]])
  res <- list()
  for (b in unique(by_values)) {
    rows <- which(by_values == b)
    k_means <- nlevels(fit@frame[[target]])
    t <- s$t.ratio[rows]; df <- s$df[rows]
    if (adjust == "tukey") {
      p_prec <- ptukey(sqrt(2) * abs(t), k_means, df, lower.tail = FALSE)
      crit <- sapply(df, function(d) uniroot(function(q) ptukey(q, k_means, d) - level, c(1, 20), tol = 1e-12)$root / sqrt(2))
      err <- rep(0, length(rows))
      if (length(rows) == 1) { p_prec <- 2 * pt(-abs(t), df); crit <- qt(0.5 + level / 2, df) }
    } else {
      corr <- cov2cor(V[rows, rows, drop = FALSE])
      if (length(rows) == 1) { p_prec <- 2 * pt(-abs(t), df); crit <- qt(0.5 + level / 2, df); err <- 0 }
      else { m <- precise_mvt(t, df, corr, level); p_prec <- m$p; crit <- m$crit; err <- m$err }
    }
    res[[length(res) + 1]] <- data.frame(design = design, df_method = gsub("-", "_", mode),
      adjust = if (adjust == "mvt") "dunnett" else "tukey", by = b, contrast = as.character(s$contrast[rows]),
      estimate = s$estimate[rows], std_error = s$SE[rows], df = df, statistic = t,
      p_value = 2 * pt(-abs(t), df), p_adjusted_emmeans = s$p.value[rows], conf_low_emmeans = s$lower.CL[rows],
      conf_high_emmeans = s$upper.CL[rows], p_adjusted_precise = p_prec, p_adjusted_error = err, crit_precise = crit)
  }
  do.call(rbind, res)
}

# --- the shipped data: HDRS-17 arm x visit model; visits pairwise (Tukey) and vs baseline (Dunnett) by arm ---
dir <- "ketastats/datasets/ketamine_vs_ect"
participants <- read.csv(file.path(dir, "participants.csv"), stringsAsFactors = FALSE)
ratings <- read.csv(file.path(dir, "ratings.csv"), stringsAsFactors = FALSE)
ratings$arm <- factor(participants$arm[match(ratings$participant_id, participants$participant_id)], levels = c("ect", "ketamine"))
ratings$visit <- factor(ratings$visit, levels = c("baseline", "tx3", "eot", "m1", "m3", "m6"))
fit <- lmer(hdrs17 ~ arm * visit + (1 | participant_id), data = ratings, REML = TRUE)
results <- list()
range_args <- as.integer(commandArgs(TRUE))
append <- length(range_args) == 2
ids <- if (append) range_args[1]:range_args[2] else 1:175
if (!append) for (mode in c("satterthwaite", "kenward-roger")) for (adjust in c("tukey", "mvt"))
  results[[length(results) + 1]] <- family_rows("ketamine_vs_ect", fit, "visit", "arm", mode, adjust)

# --- generated designs ---
designs <- list(); data_all <- list()
for (i in ids) {
  set.seed(20261201 + i)   # per design: the set.seed(1) calls before each mvt integral must not repeat designs
  kind <- c("between", "within", "by")[(i - 1) %% 3 + 1]
  k <- sample(3:5, 1); n <- sample(6:40, 1)
  id <- character(0); g <- character(0); h <- character(0)
  for (s in seq_len(n)) {
    if (kind == "within") { lv <- sample(seq_len(k), sample(max(2, k - 2):k, 1)) }
    else lv <- rep(sample(seq_len(k), 1, prob = seq_len(k)), sample(1:4, 1))
    hh <- if (kind == "by") sample(c("h1", "h2"), length(lv), replace = TRUE) else rep("h1", length(lv))
    id <- c(id, rep(sprintf("s%02d", s), length(lv))); g <- c(g, paste0("g", lv)); h <- c(h, hh)
  }
  d <- data.frame(design = i, id = id, g = factor(g, levels = paste0("g", 1:k)), h = factor(h))
  if (any(table(d$g) == 0) || (kind == "by" && any(table(d$g, d$h) == 0)) || length(unique(d$id)) < 3) next
  u <- rnorm(n, sd = runif(1, 0, 2))[match(d$id, sprintf("s%02d", seq_len(n)))]
  d$y <- round(as.numeric(d$g) * runif(1, -0.5, 0.8) + (d$h == "h2") * 0.5 + u + rnorm(nrow(d), sd = runif(1, 0.5, 2)), 4)
  form <- if (kind == "by") y ~ g * h + (1 | id) else y ~ g + (1 | id)
  fit <- try(suppressMessages(suppressWarnings(lmer(form, data = d, REML = TRUE))), silent = TRUE)
  if (inherits(fit, "try-error") || isSingular(fit) || qr(model.matrix(fit))$rank < ncol(model.matrix(fit))) next
  modes <- if (i %% 4 == 0) c("satterthwaite", "kenward-roger") else "satterthwaite"
  by <- if (kind == "by") "h" else NULL
  ok <- try({
    for (mode in modes) for (adjust in c("tukey", "mvt"))
      results[[length(results) + 1]] <- family_rows(i, fit, "g", by, mode, adjust)
  }, silent = TRUE)
  if (inherits(ok, "try-error")) next
  if (i %% 10 == 0) cat("design", i, format(Sys.time()), "\n")
  designs[[length(designs) + 1]] <- data.frame(design = i, kind = kind, levels = k, subjects = n, rows = nrow(d),
                                               formula = deparse(form), df_methods = paste(gsub("-", "_", modes), collapse = ";"))
  data_all[[length(data_all) + 1]] <- d
}
designs <- do.call(rbind, designs); data_all <- do.call(rbind, data_all); res <- format(do.call(rbind, results), digits = 17)
if (append) {   # add to the rows of the earlier part (read back as text: the numbers keep their 17 digits)
  designs <- rbind(read.csv(file.path(out, "designs.csv")), designs)
  data_all <- rbind(read.csv(file.path(out, "data.csv.gz")), data_all)
  res <- rbind(read.csv(file.path(out, "contrasts.csv.gz"), colClasses = "character"), res)
}
write.csv(designs, file.path(out, "designs.csv"), row.names = FALSE)
con <- gzfile(file.path(out, "data.csv.gz"), "w"); write.csv(data_all, con, row.names = FALSE); close(con)
con <- gzfile(file.path(out, "contrasts.csv.gz"), "w"); write.csv(res, con, row.names = FALSE); close(con)
writeLines(c(R.version.string, sapply(c("lme4", "lmerTest", "pbkrtest", "emmeans", "mvtnorm"),
                                      function(p) paste(p, packageVersion(p)))), file.path(out, "versions.txt"))
cat(nrow(designs), "designs,", nrow(res), "contrast rows\n")
