# Reference values for ketastats' association and group-comparison kernels and analyses:
# cor.test (Pearson, Spearman), partial correlation, t.test (paired, Student, Welch) with Cohen's d /
# Hedges' g, fisher.test, chisq.test, risk differences, lm, glm(binomial) with confint (MASS) and the
# exact profile-likelihood interval, drop1 LRT; plus the Siegel et al. 2021 synthetic replica.
# Run from the project root:  Rscript tests/reference/correlation_ttest_group_proportions_regression/make_reference.R
# Writes tests/reference/correlation_ttest_group_proportions_regression/associations.json (numbers with 17 significant digits).
suppressPackageStartupMessages(library(MASS))

num <- function(x) {
  if (is.na(x)) return("null")
  if (is.infinite(x)) return(if (x > 0) "Infinity" else "-Infinity")
  sprintf("%.17g", x)
}
js <- function(v) {
  if (is.list(v)) {
    if (!is.null(names(v))) {
      items <- vapply(names(v), function(k) paste0("\"", k, "\": ", js(v[[k]])), "")
      return(paste0("{", paste(items, collapse = ", "), "}"))
    }
    return(paste0("[", paste(vapply(v, js, ""), collapse = ", "), "]"))
  }
  if (is.character(v)) {
    s <- vapply(v, function(x) paste0("\"", gsub("\"", "\\\\\"", x), "\""), "")
    return(if (length(v) == 1 && is.null(attr(v, "array"))) s else paste0("[", paste(s, collapse = ", "), "]"))
  }
  if (is.logical(v) && length(v) == 1 && !is.na(v)) return(tolower(as.character(v)))
  scalar <- length(v) == 1 && is.null(attr(v, "array"))
  v <- as.numeric(v)
  if (scalar) return(num(v))
  paste0("[", paste(vapply(v, num, ""), collapse = ", "), "]")
}
arr <- function(v) { v <- as.numeric(v); attr(v, "array") <- TRUE; v }

# --- correlations --------------------------------------------------------------------------------
x1 <- c(2.1, 3.4, 1.9, 5.6, 4.4, 3.3, 6.1, 2.8, 4.9, 5.2, 3.9, 4.1, 6.6, 2.2, 3.0)
y1 <- c(1.2, 2.9, 2.2, 4.1, 3.0, 3.5, 5.2, 1.8, 3.3, 4.6, 2.4, 3.8, 4.9, 2.5, 1.9)
z1 <- c(30, 41, 28, 55, 47, 36, 60, 33, 52, 49, 45, 38, 58, 29, 35)
z2 <- c(1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1)
ties_x <- c(1, 2, 2, 3, 4, 4, 4, 5, 6, 7, 8, 8)
ties_y <- c(2, 1, 3, 3, 5, 4, 6, 6, 7, 9, 8, 10)

cor_case <- function(name, x, y, method, alternative = "two.sided", conf.level = 0.95) {
  r <- suppressWarnings(cor.test(x, y, method = method, alternative = alternative, conf.level = conf.level))
  out <- list(name = name, x = arr(x), y = arr(y), method = method, alternative = alternative,
              conf_level = conf.level, estimate = unname(r$estimate), statistic = unname(r$statistic),
              p_value = r$p.value)
  if (!is.null(r$parameter)) out$df <- unname(r$parameter)
  if (!is.null(r$conf.int)) out$conf_int <- arr(r$conf.int)
  if (method == "spearman") {  # Fisher z with the Bonett-Wright variance (by hand; R gives no interval)
    n <- length(x); rho <- unname(r$estimate); se <- sqrt((1 + rho^2 / 2) / (n - 3))
    z <- atanh(rho)
    out$conf_int_bonett_wright <- arr(switch(alternative,  # one-sided intervals as cor.test's Pearson ones
      two.sided = tanh(z + c(-1, 1) * qnorm((1 + conf.level) / 2) * se),
      less = c(-1, tanh(z + qnorm(conf.level) * se)),
      greater = c(tanh(z - qnorm(conf.level) * se), 1)))
  }
  out
}
correlations <- list(
  cor_case("pearson", x1, y1, "pearson"),
  cor_case("pearson_less_90", x1, y1, "pearson", "less", 0.90),
  cor_case("pearson_greater", x1, -y1, "pearson", "greater"),
  cor_case("spearman_n15_edgeworth", x1, y1, "spearman"),
  cor_case("spearman_n7_exact", x1[1:7], y1[1:7], "spearman"),
  cor_case("spearman_n9_exact", x1[1:9], z1[1:9], "spearman"),
  cor_case("spearman_ties", ties_x, ties_y, "spearman"),
  cor_case("spearman_greater", x1, y1, "spearman", "greater"),
  cor_case("pearson_n5", c(1, 2, 3, 4, 5), c(2, 1, 4, 3, 5), "pearson")
)

partial_case <- function(name, x, y, Z, method = "pearson", conf.level = 0.95) {
  Z <- as.matrix(Z); k <- ncol(Z); n <- length(x)
  if (method == "spearman") { x <- rank(x); y <- rank(y); Z <- apply(Z, 2, rank) }
  rx <- resid(lm(x ~ Z)); ry <- resid(lm(y ~ Z))
  r <- cor(rx, ry); df <- n - 2 - k
  t <- r * sqrt(df / (1 - r^2)); p <- 2 * pt(-abs(t), df)
  se <- if (method == "pearson") 1 / sqrt(n - 3 - k) else sqrt((1 + r^2 / 2) / (n - 3 - k))
  ci <- tanh(atanh(r) + c(-1, 1) * qnorm((1 + conf.level) / 2) * se)
  list(name = name, method = method, estimate = r, statistic = t, df = df, p_value = p, conf_int = arr(ci))
}
partials <- list(
  partial_case("partial_pearson_1", x1, y1, cbind(z1)),
  partial_case("partial_pearson_2", x1, y1, cbind(z1, z2)),
  partial_case("partial_spearman_1", x1, y1, cbind(z1), "spearman")
)

# --- t tests and standardised differences ----------------------------------------------------------
ga <- c(5.1, 4.9, 6.2, 5.7, 6.8, 5.5, 6.0, 4.7, 5.9, 6.4)
gb <- c(4.1, 4.4, 5.0, 3.9, 4.6, 5.8, 4.2, 4.9)
pre <- c(28, 31, 25, 30, 27, 33, 29, 26, 32, 30, 24, 29)
post <- c(12, 20, 9, 15, 22, 10, 18, 8, 25, 14, 11, 16)

ncp_interval <- function(t, df, conf.level) {
  a <- (1 - conf.level) / 2
  f <- function(target) function(ncp) pt(t, df, ncp) - target
  lo <- uniroot(f(1 - a), c(t - 20, t + 20), tol = 1e-13)$root
  hi <- uniroot(f(a), c(t - 20, t + 20), tol = 1e-13)$root
  c(lo, hi)
}
J <- function(df) exp(lgamma(df / 2) - log(sqrt(df / 2)) - lgamma((df - 1) / 2))
ttest_case <- function(name, x, y, method, alternative = "two.sided", conf.level = 0.95) {
  r <- t.test(x, y, paired = method == "paired", var.equal = method == "student", alternative = alternative,
              conf.level = conf.level)
  if (method == "paired") {
    d <- mean(x - y) / sd(x - y); n <- length(x); scale <- 1 / sqrt(n); ddf <- n - 1
  } else {
    n1 <- length(x); n2 <- length(y)
    sp <- sqrt(((n1 - 1) * var(x) + (n2 - 1) * var(y)) / (n1 + n2 - 2))
    d <- (mean(x) - mean(y)) / sp; scale <- sqrt(1 / n1 + 1 / n2); ddf <- n1 + n2 - 2
  }
  dci <- ncp_interval(d / scale, ddf, conf.level) * scale
  list(name = name, x = arr(x), y = arr(y), method = method, alternative = alternative, conf_level = conf.level,
       estimate = if (method == "paired") unname(r$estimate) else unname(r$estimate[1] - r$estimate[2]),
       std_error = r$stderr, statistic = unname(r$statistic), df = unname(r$parameter), p_value = r$p.value,
       conf_int = arr(r$conf.int), cohens_d = d, cohens_d_ci = arr(dci), hedges_g = J(ddf) * d,
       hedges_g_ci = arr(J(ddf) * dci))
}
ttests <- list(
  ttest_case("student", ga, gb, "student"),
  ttest_case("welch", ga, gb, "welch"),
  ttest_case("paired", post, pre, "paired"),
  ttest_case("welch_less_90", gb, ga, "welch", "less", 0.90),
  ttest_case("student_greater", ga, gb, "student", "greater"),
  ttest_case("paired_99", post, pre, "paired", conf.level = 0.99)
)

# --- two-by-two tables ----------------------------------------------------------------------------
wilson <- function(x, n, conf.level) {
  z <- qnorm((1 + conf.level) / 2); p <- x / n
  c <- p + z^2 / (2 * n); h <- z * sqrt(p * (1 - p) / n + z^2 / (4 * n^2))
  lo <- if (x == 0) 0 else (c - h) / (1 + z^2 / n); hi <- if (x == n) 1 else (c + h) / (1 + z^2 / n)
  c(lo, hi)
}
table_case <- function(a, b, c, d, conf.level = 0.95) {
  m <- matrix(c(a, c, b, d), 2)
  f <- fisher.test(m, conf.level = conf.level)
  ch <- suppressWarnings(chisq.test(m, correct = TRUE)); ch0 <- suppressWarnings(chisq.test(m, correct = FALSE))
  n1 <- a + b; n2 <- c + d; p1 <- a / n1; p2 <- c / n2; q <- qnorm((1 + conf.level) / 2)
  w1 <- wilson(a, n1, conf.level); w2 <- wilson(c, n2, conf.level)
  newcombe <- c(p1 - p2 - sqrt((p1 - w1[1])^2 + (w2[2] - p2)^2), p1 - p2 + sqrt((w1[2] - p1)^2 + (p2 - w2[1])^2))
  wald <- p1 - p2 + c(-1, 1) * q * sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
  list(cells = arr(c(a, b, c, d)), conf_level = conf.level, fisher_p = f$p.value,
       fisher_estimate = unname(f$estimate), fisher_conf_int = arr(f$conf.int),
       chisq_yates = unname(ch$statistic), chisq_yates_p = ch$p.value,
       chisq = unname(ch0$statistic), chisq_p = ch0$p.value,
       risk_difference = p1 - p2, newcombe = arr(newcombe), wald = arr(wald))
}
tables <- list(table_case(8, 3, 3, 7), table_case(3, 1, 1, 3), table_case(0, 5, 3, 4), table_case(10, 2, 1, 12),
               table_case(5, 5, 5, 5), table_case(12, 0, 4, 6), table_case(20, 15, 8, 30, 0.90),
               table_case(1, 9, 6, 4, 0.99))

# --- regression -----------------------------------------------------------------------------------
dose <- c(1.2, 2.5, 3.1, 0.8, 4.2, 3.3, 2.9, 5.0, 1.7, 4.4, 3.8, 2.2, 4.9, 0.5, 3.5, 2.7, 4.0, 1.5, 5.5, 3.0)
age <- c(34, 51, 45, 29, 60, 38, 42, 55, 31, 48, 62, 40, 57, 25, 44, 36, 52, 30, 65, 47)
event <- c(0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0)
score <- c(10.2, 14.1, 15.8, 9.0, 20.3, 14.9, 13.2, 22.8, 11.5, 19.0, 18.1, 12.4, 21.7, 8.1, 16.0, 13.9,
           18.6, 10.4, 24.1, 15.2)
exact_profile <- function(fit, X, y, j, conf.level = 0.95) {
  b <- coef(fit); se <- sqrt(diag(vcov(fit))); D0 <- deviance(fit); q <- qnorm((1 + conf.level) / 2)
  Xo <- X[, -j, drop = FALSE]
  z <- function(bj) {
    g <- glm.fit(Xo, y, offset = X[, j] * bj, family = binomial(), control = glm.control(epsilon = 1e-13, maxit = 100))
    sign(bj - b[j]) * sqrt(max(g$deviance - D0, 0))
  }
  c(uniroot(function(v) z(v) + q, c(b[j] - 6 * se[j], b[j]), tol = 1e-13)$root,
    uniroot(function(v) z(v) - q, c(b[j], b[j] + 6 * se[j]), tol = 1e-13)$root)
}
logistic_case <- function(name, formula, data) {
  tight <- glm(formula, binomial, data, control = glm.control(epsilon = 1e-13, maxit = 100))
  default <- glm(formula, binomial, data)
  X <- model.matrix(tight); y <- model.response(model.frame(tight))
  prof <- suppressMessages(confint(default))
  prof <- matrix(prof, ncol = 2)
  cs <- coef(summary(default))  # what a user sees: R's default convergence (ketastats reproduces its iterations)
  d1 <- drop1(default, test = "LRT")
  list(name = name, formula = deparse(formula), terms = colnames(X), estimate = arr(cs[, 1]),
       std_error = arr(cs[, 2]), statistic = arr(cs[, 3]), p_value = arr(cs[, 4]),
       wald_low = arr(confint.default(default)[, 1]), wald_high = arr(confint.default(default)[, 2]),
       mass_profile_low = arr(prof[, 1]), mass_profile_high = arr(prof[, 2]),
       exact_profile = lapply(seq_len(ncol(X)), function(j) arr(exact_profile(tight, X, y, j))),
       lrt_terms = as.list(rownames(d1)[-1]), lrt_statistic = arr(d1$LRT[-1]), lrt_p_value = arr(d1[["Pr(>Chi)"]][-1]),
       deviance = deviance(default), mle_estimate = arr(coef(tight)))
}
reg_data <- data.frame(dose, age, event = event == 1, score)
regressions <- list(
  logistic_case("logistic_dose", event ~ dose, reg_data),
  logistic_case("logistic_dose_age", event ~ dose + age, reg_data)
)
ols <- lm(score ~ dose + age, reg_data); ocs <- coef(summary(ols))
ols_case <- list(name = "ols_dose_age", terms = names(coef(ols)), estimate = arr(ocs[, 1]), std_error = arr(ocs[, 2]),
                 statistic = arr(ocs[, 3]), p_value = arr(ocs[, 4]), df = ols$df.residual,
                 conf_low = arr(confint(ols)[, 1]), conf_high = arr(confint(ols)[, 2]), sigma = summary(ols)$sigma)

# --- the Siegel et al. 2021 synthetic replica (the shipped CSV files) ---------------------------------
dir <- "ketastats/datasets/siegel2021"
clinical <- read.csv(file.path(dir, "clinical.csv")); volumes <- read.csv(file.path(dir, "volumes.csv"))
participants <- read.csv(file.path(dir, "participants.csv")); imaging <- read.csv(file.path(dir, "imaging.csv"))
controls <- read.csv(file.path(dir, "controls.csv")); pk <- read.csv(file.path(dir, "pharmacology.csv"))
base <- setNames(clinical$madrs[clinical$visit == "baseline"], clinical$participant_id[clinical$visit == "baseline"])
change_at <- function(v) { rows <- clinical[clinical$visit == v, ]; setNames(rows$madrs - base[rows$participant_id], rows$participant_id) }
ch2 <- change_at("week2"); ch1 <- change_at("day1"); ch8 <- change_at("week8")
siegel_cor <- list()
for (col in c("hippocampus_l", "hippocampus_r", "amygdala_l", "amygdala_r", "nacc_l", "nacc_r")) {
  ratio <- setNames(volumes[[col]] / volumes$icv, volumes$participant_id)
  r <- cor.test(ratio[names(ch2)], ch2)  # complete pairs: volumes are missing without a usable scan
  siegel_cor[[paste0(col, "_icv")]] <- list(estimate = unname(r$estimate), statistic = unname(r$statistic),
                                            df = unname(r$parameter), p_value = r$p.value, conf_int = arr(r$conf.int),
                                            n = sum(!is.na(ratio[names(ch2)])))
}
bprs <- setNames(participants$bprs_positive_mean, participants$participant_id)
siegel_bprs <- list()
for (v in c("day1", "week2", "week8")) {
  ch <- change_at(v); ok <- !is.na(bprs[names(ch)])
  r <- cor.test(bprs[names(ch)][ok], ch[ok])
  siegel_bprs[[v]] <- list(estimate = unname(r$estimate), p_value = r$p.value, conf_int = arr(r$conf.int), n = sum(ok))
}
siegel_t <- list()
control_mean <- function(col) tapply(controls[[col]], controls$control_id, mean)
for (col in c("fc_dmn", "fc_sgacc_dmn", "fc_limbic", "fc_visual")) {
  for (when in c("pre", "post")) {
    rows <- imaging[imaging$time == when, ]
    patients <- tapply(rows[[col]], rows$participant_id, mean)
    r <- t.test(patients, control_mean(col), var.equal = TRUE)
    siegel_t[[paste(col, when, sep = "_")]] <- list(estimate = unname(r$estimate[1] - r$estimate[2]),
      statistic = unname(r$statistic), df = unname(r$parameter), p_value = r$p.value, conf_int = arr(r$conf.int))
  }
}
pk$nausea <- pk$nausea == "true"
siegel_logit <- logistic_case("siegel_nausea_ketamine", nausea ~ ketamine_ng_ml, pk[!is.na(pk$ketamine_ng_ml), ])

doc <- list(
  R_version = R.version.string, platform = R.version$platform,
  packages = list(stats = as.character(packageVersion("stats")), MASS = as.character(packageVersion("MASS"))),
  correlations = correlations, partial_correlations = partials, ttests = ttests, tables = tables,
  logistic = regressions, ols = ols_case,
  siegel = list(volume_correlations = siegel_cor, bprs_correlations = siegel_bprs, patients_vs_controls = siegel_t,
                nausea_vs_ketamine = siegel_logit)
)
text <- js(doc)
stopifnot(jsonlite::validate(gsub("-?Infinity", "0", text)))
writeLines(text, "tests/reference/correlation_ttest_group_proportions_regression/associations.json")
