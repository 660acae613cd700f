// FPU handlers: placeholder until the FPU lands. Without an FPU (the default,
// Config1.FP = 0) Status.CU1 cannot be set, so these are unreachable: every
// CP1 instruction raises Coprocessor Unusable first (require_cp1), and Linux
// emulates the FPU itself.
#include "interp/common.h"
#include "interp/handlers.h"

namespace disco::interp {

DISCO_HANDLER(MOVF) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MOVT) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MFC1) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(DMFC1) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(CFC1) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MFHC1) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MTC1) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(DMTC1) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(CTC1) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MTHC1) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(BC1F) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(BC1T) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(BC1FL) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(BC1TL) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(ADD_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(ADD_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(SUB_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(SUB_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MUL_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MUL_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(DIV_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(DIV_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(SQRT_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(SQRT_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(ABS_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(ABS_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MOV_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MOV_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(NEG_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(NEG_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(ROUND_L_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(ROUND_L_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(TRUNC_L_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(TRUNC_L_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(CEIL_L_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(CEIL_L_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(FLOOR_L_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(FLOOR_L_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(ROUND_W_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(ROUND_W_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(TRUNC_W_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(TRUNC_W_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(CEIL_W_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(CEIL_W_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(FLOOR_W_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(FLOOR_W_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(RECIP_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(RECIP_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(RSQRT_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(RSQRT_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(CVT_W_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(CVT_W_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(CVT_L_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(CVT_L_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MOVF_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MOVF_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MOVT_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MOVT_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MOVZ_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MOVZ_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MOVN_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MOVN_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(CVT_D_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(CVT_S_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(CVT_S_W) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(CVT_D_W) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(CVT_S_L) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(CVT_D_L) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(C_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(C_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(LWXC1) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(LDXC1) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(LUXC1) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(SWXC1) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(SDXC1) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(SUXC1) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(PREFX) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MADD_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MADD_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MSUB_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(MSUB_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(NMADD_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(NMADD_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(NMSUB_S) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(NMSUB_D) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(LWC1) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(LDC1) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(SWC1) { if (require_cp1(c)) raise_exception(c, EXC_RI); }
DISCO_HANDLER(SDC1) { if (require_cp1(c)) raise_exception(c, EXC_RI); }

}  // namespace disco::interp
