# Reference values for toolkit.models.robust (CR2 cluster-robust covariance, Satterthwaite df, HTZ test).
# Run from the project root:  Rscript tests/reference/models_robust/cr2_reference.R
# Needs TOOLKIT_DATA_MIRROR (or /work/shared/datasets) for the UCI Live sellers in Thailand data.
suppressPackageStartupMessages({library(MASS); library(clubSandwich)})
mirror <- Sys.getenv("TOOLKIT_DATA_MIRROR", "/work/shared/datasets")
out <- "tests/reference/models_robust"
f17 <- function(x) format(x, digits = 17)
# tight IRLS convergence: summary()'s cov.unscaled (clubSandwich's bread) is taken from the last IRLS iteration
ctl <- glm.control(epsilon = 1e-14, maxit = 200)

# NB2 at the ML theta, like-for-like with toolkit: glm.nb stops theta.ml at eps = .Machine$double.eps^0.25, which
# leaves theta ~1e-7 (relative) short of the maximum on the Thai data (theta score 0.0019). Start from glm.nb,
# then alternate theta.ml(eps = 1e-14) and glm(family = negative.binomial(theta)) until theta is stable; the final
# glm object (theta fixed, as clubSandwich treats glm.nb fits) is what vcovCR sees.
nb_ml <- function(formula, data) {
  m0 <- glm.nb(formula, data = data)
  theta <- m0$theta
  for (i in 1:50) {
    m <- glm(formula, family = negative.binomial(theta), data = data, control = ctl)
    new <- as.numeric(theta.ml(m$y, fitted(m), limit = 100, eps = 1e-14))
    done <- abs(new / theta - 1) < 1e-14
    theta <- new
    if (done) break
  }
  m <- glm(formula, family = negative.binomial(theta), data = data, control = ctl)
  stopifnot(m$converged)
  m$theta_ml <- theta
  m$theta_glm_nb <- m0$theta
  m
}

# One long table per model: coefficients (coef_test), single contrasts (linear_contrast) and the HTZ test.
cr2_tables <- function(m, cluster, dataset, family, between, contrasts) {
  V <- vcovCR(m, cluster = cluster, type = "CR2")
  ct <- coef_test(m, vcov = V, test = "Satterthwaite")
  coefs <- data.frame(dataset = dataset, family = family, kind = "coefficient", name = ct$Coef,
                      estimate = f17(ct$beta), std_error = f17(ct$SE), df = f17(ct$df_Satt),
                      statistic = f17(ct$tstat), p_value = f17(ct$p_Satt), ci_low = NA, ci_high = NA)
  lc <- linear_contrast(m, vcov = V, contrasts = contrasts, test = "Satterthwaite", level = 0.95, p_values = TRUE)
  cons <- data.frame(dataset = dataset, family = family, kind = ifelse(grepl("^emm ", lc$Coef), "emmean", "contrast"),
                     name = sub("^emm ", "", lc$Coef), estimate = f17(lc$Est), std_error = f17(lc$SE), df = f17(lc$df),
                     statistic = f17(lc$Est / lc$SE), p_value = f17(lc$p_val), ci_low = f17(lc$CI_L),
                     ci_high = f17(lc$CI_U))
  stopifnot(m$converged)
  idx <- grep(paste0("^", between), names(coef(m)))
  wt <- Wald_test(m, constraints = constrain_zero(idx), vcov = V, test = "HTZ")
  htz <- data.frame(dataset = dataset, family = family, kind = "htz", name = paste(names(coef(m))[idx], collapse = "+"),
                    estimate = NA, std_error = NA, df = f17(wt$df_denom), statistic = f17(wt$Fstat),
                    p_value = f17(wt$p_val), ci_low = NA, ci_high = NA)
  theta <- if (is.null(m$theta_ml)) c(NA, NA) else c(m$theta_ml, m$theta_glm_nb)
  fitrow <- data.frame(dataset = dataset, family = family, kind = "theta", name = c("theta", "theta_glm_nb"),
                       estimate = f17(theta), std_error = NA, df = NA, statistic = NA, p_value = NA, ci_low = NA,
                       ci_high = NA)
  rbind(coefs, cons, htz, fitrow)
}

# Pairwise differences of the `between` levels (order a < b as toolkit's contrasts table) and, optionally,
# marginal-mean rows L_d (intercept, the level's dummy, 1/k on each level of a factor covariate).
contrast_matrix <- function(m, between, levels, covariate = NULL, cov_levels = NULL) {
  p <- length(coef(m)); nm <- names(coef(m))
  row_of <- function(lv) {
    r <- setNames(numeric(p), nm); r[1] <- 1
    if (lv != levels[1]) r[paste0(between, lv)] <- 1
    if (!is.null(covariate)) r[paste0(covariate, cov_levels[-1])] <- 1 / length(cov_levels)
    r
  }
  L <- t(sapply(levels, row_of))
  rows <- list(); names_ <- character(0)
  for (a in seq_along(levels)) for (b in seq_along(levels)) if (a < b) {
    rows[[length(rows) + 1]] <- L[a, ] - L[b, ]; names_ <- c(names_, paste(levels[a], "-", levels[b]))
  }
  if (!is.null(covariate)) for (a in seq_along(levels)) {
    rows[[length(rows) + 1]] <- L[a, ]; names_ <- c(names_, paste("emm", levels[a]))
  }
  C <- do.call(rbind, rows); rownames(C) <- names_
  C
}

## 1. UCI Live sellers in Thailand (real): num_comments ~ status_type, clustered by seller (9 sellers) ------
th <- read.csv(file.path(mirror, "uci_live_sellers_thailand", "Live_20210128.csv"))
codes <- read.csv(file.path(mirror, "uci_live_sellers_thailand", "seller_codes.csv"))
th <- merge(th[, c("status_id", "status_type", "num_comments")], codes[, c("status_id", "seller")], by = "status_id")
th$status_type <- factor(th$status_type)
lv_th <- levels(th$status_type)
t_po <- glm(num_comments ~ status_type, family = poisson, data = th, control = ctl)
t_nb <- nb_ml(num_comments ~ status_type, th)
res <- rbind(
  cr2_tables(t_po, th$seller, "thai", "poisson", "status_type", contrast_matrix(t_po, "status_type", lv_th)),
  cr2_tables(t_nb, th$seller, "thai", "negbin", "status_type", contrast_matrix(t_nb, "status_type", lv_th)))

## 2. SIMULATED organisation (make_simulated.py): 4 departments x 3 accounts, exposure reach, content_type -----
sim <- read.csv(file.path(out, "simulated_few_accounts.csv"))
dept_levels <- unique(sim$department[order(sim$department_order)])
sim$department <- factor(sim$department, levels = dept_levels)
sim$content_type <- factor(sim$content_type)
cl <- levels(sim$content_type)
s_po <- glm(comments ~ department + content_type + offset(log(reach)), family = poisson, data = sim, control = ctl)
s_nb <- nb_ml(comments ~ department + content_type + offset(log(reach)), sim)
res <- rbind(res,
  cr2_tables(s_po, sim$account, "simulated", "poisson", "department",
             contrast_matrix(s_po, "department", dept_levels, "content_type", cl)),
  cr2_tables(s_nb, sim$account, "simulated", "negbin", "department",
             contrast_matrix(s_nb, "department", dept_levels, "content_type", cl)))
write.csv(res, file.path(out, "cr2_reference.csv"), row.names = FALSE)

writeLines(capture.output(sessionInfo()), file.path(out, "sessionInfo.txt"))
