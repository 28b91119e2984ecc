# Tukey and Dunnett adjustment of LS-mean contrasts on an mmrm fit (ketastats mmrm with adjust: tukey | dunnett):
# the shipped ketamine vs ECT ratings, HDRS-17 ~ arm * visit with an unstructured covariance (REML,
# Kenward-Roger df with the linear KR covariance, as SAS DDFM=KR), visits pairwise (Tukey) and against
# baseline (Dunnett = emmeans adjust = "mvt") by arm. Run from the project root:
#   Rscript tests/reference/contrast_adjust/make_reference_mmrm.R
# Writes mmrm_contrasts.csv.gz here (same columns as make_reference.R's contrasts.csv.gz; precise values as there).
suppressPackageStartupMessages({library(mmrm); library(emmeans); library(mvtnorm)})
out <- "tests/reference/contrast_adjust"
# emmeans' df for mvtnorm (emmeans:::.fix.df): at least 1, floor(df + 0.25), 0 (normal) past 9999
fix_df <- function(d) { d <- max(1, d); if (is.infinite(d) || d > 9999) 0L else as.integer(floor(d + 0.25)) }
gb <- GenzBretz(maxpts = 4e5, abseps = 5e-6, releps = 0)
dir <- "ketastats/datasets/ketamine_vs_ect"
participants <- read.csv(file.path(dir, "participants.csv"), stringsAsFactors = FALSE)
ratings <- read.csv(file.path(dir, "ratings.csv"), stringsAsFactors = FALSE)
ratings$arm <- factor(participants$arm[match(ratings$participant_id, participants$participant_id)], levels = c("ect", "ketamine"))
ratings$visit <- factor(ratings$visit, levels = c("baseline", "tx3", "eot", "m1", "m3", "m6"))
ratings$participant_id <- factor(ratings$participant_id)
ratings <- ratings[!is.na(ratings$hdrs17), ]
fit <- mmrm(hdrs17 ~ arm * visit + us(visit | participant_id), data = ratings, reml = TRUE,
            method = "Kenward-Roger", vcov = "Kenward-Roger-Linear")
emm <- emmeans(fit, ~ visit | arm)
rows <- list()
for (adjust in c("tukey", "mvt")) {
  con <- if (adjust == "tukey") pairs(emm) else contrast(emm, "trt.vs.ctrl", ref = 1)
  set.seed(1)
  s <- as.data.frame(summary(con, infer = c(TRUE, TRUE), adjust = adjust))
  V <- vcov(con)
  for (b in levels(ratings$arm)) {
    r <- which(as.character(s$arm) == b)
    t <- s$t.ratio[r]; df <- s$df[r]; k <- length(r)
    if (adjust == "tukey") {
      p <- ptukey(sqrt(2) * abs(t), 6, df, lower.tail = FALSE); err <- rep(0, k)
      crit <- sapply(df, function(d) uniroot(function(q) ptukey(q, 6, d) - 0.95, c(1, 20), tol = 1e-12)$root / sqrt(2))
    } else {
      corr <- cov2cor(V[r, r]); p <- err <- crit <- numeric(k)
      for (i in seq_len(k)) {
        nu <- fix_df(df[i]); set.seed(1)
        v <- pmvt(rep(-abs(t[i]), k), rep(abs(t[i]), k), df = nu, corr = corr, algorithm = gb)
        p[i] <- 1 - v; err[i] <- attr(v, "error")
        f <- function(cv) { set.seed(1); pmvt(rep(-cv, k), rep(cv, k), df = nu, corr = corr, algorithm = gb) - 0.95 }
        crit[i] <- uniroot(f, c(qt(0.975, nu), qt(1 - 0.025 / k, nu) + 1e-3), tol = 1e-6)$root
      }
    }
    rows[[length(rows) + 1]] <- data.frame(design = "ketamine_vs_ect_mmrm", df_method = "kenward_roger",
      adjust = if (adjust == "mvt") "dunnett" else "tukey", by = b, contrast = as.character(s$contrast[r]),
      estimate = s$estimate[r], std_error = s$SE[r], df = df, statistic = t, p_value = 2 * pt(-abs(t), df),
      p_adjusted_emmeans = s$p.value[r], conf_low_emmeans = s$lower.CL[r], conf_high_emmeans = s$upper.CL[r],
      p_adjusted_precise = p, p_adjusted_error = err, crit_precise = crit)
  }
}
res <- do.call(rbind, rows)
con <- gzfile(file.path(out, "mmrm_contrasts.csv.gz"), "w"); write.csv(format(res, digits = 17), con, row.names = FALSE); close(con)
cat(nrow(res), "rows; mmrm", as.character(packageVersion("mmrm")), "\n")
# after make_reference.R, which writes versions.txt
write(paste("mmrm", packageVersion("mmrm"), "(make_reference_mmrm.R)"), file.path(out, "versions.txt"), append = TRUE)
