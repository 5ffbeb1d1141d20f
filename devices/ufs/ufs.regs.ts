/**
 * @module devices/ufs/ufs.regs
 * The UFSHCI register map and the protocol constants a UFS host driver needs, as pure data.
 * The model, the drivers and the tests all import this file (style anchor C2), the way QEMU's
 * `include/block/ufs.h` is shared by `hw/ufs/ufs.c` and `tests/qtest/ufs-test.c`.
 *
 * Sources: JESD223 (UFSHCI) register layout as cross-checked in hardware-models.md §1.1 against
 * QEMU `UfsReg`, Linux `include/ufs/ufshci.h` and Renode `UFSHostController`; UPIU, query, SCSI
 * and UniPro constants from §1.2–§1.7 (JESD220 / T10 SPC/SBC / MIPI UniPro names).
 *
 * Everything multi-byte in host memory descriptors (UTRD, UTMRD header, PRDT) is little-endian;
 * everything inside a UPIU is big-endian.
 *
 * @example
 * import { UFS_REGS, UIC, UFS_INTR } from '../devices/ufs/ufs.regs.js';
 * const { offsets: A, bits: B } = UFS_REGS;
 * mmio.write(A.HCE, 4, B.HCE.HCE);                  // enable; then poll until HCE reads 1
 * mmio.write(A.UICCMD, 4, UIC.DME_LINK_STARTUP);    // wait for IS.UCCS
 * mmio.write(A.IE, 4, UFS_INTR.UTRCS | UFS_INTR.UCCS);
 */
import { defineRegisterMap, type SpecsOf } from '../core/regmap.js';

/** IS and IE share one layout (UFSHCI: IE bit n enables IS bit n). */
const INTR_BITS = {
  UTRCS: { bit: 0, doc: 'UTP transfer request completed' },
  UDEPRI: { bit: 1, doc: 'UIC DME_ENDPOINTRESET indication' },
  UE: { bit: 2, doc: 'UIC error (details in UECPA..UECDME)' },
  UTMS: { bit: 3, doc: 'UIC test mode' },
  UPMS: { bit: 4, doc: 'UIC power mode change completed (see HCS.UPMCRS)' },
  UHXS: { bit: 5, doc: 'UIC hibernate exit' },
  UHES: { bit: 6, doc: 'UIC hibernate enter' },
  ULLS: { bit: 7, doc: 'UIC link lost' },
  ULSS: { bit: 8, doc: 'UIC link startup' },
  UTMRCS: { bit: 9, doc: 'UTP task management request completed' },
  UCCS: { bit: 10, doc: 'UIC command completed' },
  DFES: { bit: 11, doc: 'device fatal error' },
  UTPES: { bit: 12, doc: 'UTP error' },
  HCFES: { bit: 16, doc: 'host controller fatal error' },
  SBFES: { bit: 17, doc: 'system bus fatal error (a DMA access failed)' },
  CEFES: { bit: 18, doc: 'crypto engine fatal error' },
  CQES: { bit: 20, doc: 'MCQ completion queue event (MCQ only; never set here)' },
} as const;

type IntrName = keyof typeof INTR_BITS;
const intrFields = <A extends 'w1c' | 'rw'>(access: A) =>
  Object.fromEntries(Object.entries(INTR_BITS).map(([n, f]) => [n, { bit: f.bit, access, doc: f.doc }])) as {
    readonly [K in IntrName]: { readonly bit: number; readonly access: A; readonly doc: string };
  };

/**
 * The UFSHCI register window (legacy single-doorbell subset + the registers Linux touches).
 * Offsets exactly as hardware-models.md §1.1. Reset values are QEMU's; the model patches
 * CAP.NUTRS / CAP.NUTMRS from its params at reset.
 */
export const UFS_REGS = defineRegisterMap('ufshci', {
  CAP: {
    offset: 0x00,
    doc: 'controller capabilities (QEMU default 0x0107021F: NUTRS=31, RTT=2, NUTMRS=7, 64AS)',
    fields: {
      NUTRS: { bit: 0, width: 5, access: 'ro', reset: 31, doc: 'transfer request slots - 1' },
      RTT: { bit: 8, width: 8, access: 'ro', reset: 2, doc: 'outstanding READY TO TRANSFER requests - 1' },
      NUTMRS: { bit: 16, width: 3, access: 'ro', reset: 7, doc: 'task management slots - 1' },
      EHSLUTRDS: { bit: 22, access: 'ro', doc: 'EHS length field in UTRD supported' },
      AUTOH8: { bit: 23, access: 'ro', doc: 'auto-hibernate supported (not advertised)' },
      AS64: { bit: 24, access: 'ro', reset: 1, doc: '64AS: 64-bit addressing supported' },
      OODDS: { bit: 25, access: 'ro', doc: 'out-of-order data delivery' },
      UICDMETMS: { bit: 26, access: 'ro', doc: 'UIC DME test mode' },
      CS: { bit: 28, access: 'ro', doc: 'crypto support' },
      LSDBS: { bit: 29, access: 'ro', doc: 'legacy single doorbell removed (1 = no SDB)' },
      MCQS: { bit: 30, access: 'ro', doc: 'MCQ supported' },
    },
  },
  MCQCAP: { offset: 0x04, access: 'ro', doc: 'MCQ capabilities; 0: no MCQ' },
  VER: {
    offset: 0x08,
    doc: 'UFSHCI version: 3.0 (0x0300), the host spec used with UFS 3.1 devices',
    fields: {
      VS: { bit: 0, width: 4, access: 'ro', doc: 'version suffix' },
      MNR: { bit: 4, width: 4, access: 'ro', doc: 'minor' },
      MJR: { bit: 8, width: 8, access: 'ro', reset: 3, doc: 'major' },
    },
  },
  HCPID: { offset: 0x10, access: 'ro', reset: 0x0001_0001, doc: 'host controller (product) ID, free-form' },
  HCMID: { offset: 0x14, access: 'ro', reset: 0x0000_484d, doc: "manufacturer ID ('HM'), free-form" },
  AHIT: {
    offset: 0x18,
    doc: 'auto-hibernate idle timer: stored, otherwise ignored (CAP.AUTOH8 = 0)',
    fields: {
      AH8ITV: { bit: 0, width: 10, access: 'rw', doc: 'idle timer value' },
      TS: { bit: 10, width: 3, access: 'rw', doc: 'timer scale' },
    },
  },
  IS: { offset: 0x20, doc: 'interrupt status, write 1 to clear', fields: intrFields('w1c') },
  IE: { offset: 0x24, doc: 'interrupt enable, same layout as IS', fields: intrFields('rw') },
  HCS: {
    offset: 0x30,
    doc: 'host controller status',
    fields: {
      DP: { bit: 0, access: 'ro', doc: 'device present (after link startup)' },
      UTRLRDY: { bit: 1, access: 'ro', doc: 'transfer request list ready' },
      UTMRLRDY: { bit: 2, access: 'ro', doc: 'task management request list ready' },
      UCRDY: { bit: 3, access: 'ro', doc: 'UIC command ready' },
      HEI: { bit: 4, access: 'ro', doc: 'host error indicator' },
      DEI: { bit: 5, access: 'ro', doc: 'device error indicator' },
      UPMCRS: { bit: 8, width: 3, access: 'ro', doc: 'power mode change request status (UPMCRS.*)' },
      UTPEC: { bit: 12, width: 4, access: 'ro', doc: 'UTP error code' },
      TTAGUTPE: { bit: 16, width: 8, access: 'ro', doc: 'task tag of the UTP error' },
      TLUNUTPE: { bit: 24, width: 8, access: 'ro', doc: 'LUN of the UTP error' },
    },
  },
  HCE: {
    offset: 0x34,
    doc: 'host controller enable: write 1, then poll until it reads 1; write 0 to reset',
    fields: {
      HCE: { bit: 0, access: 'rw', doc: 'host controller enable' },
      CGE: { bit: 1, access: 'rw', doc: 'crypto general enable (no crypto engine: stored only)' },
    },
  },
  UECPA: { offset: 0x38, access: 'rc', doc: 'UIC PHY adapter layer error code (clear on read)' },
  UECDL: { offset: 0x3c, access: 'rc', doc: 'UIC data link layer error code' },
  UECN: { offset: 0x40, access: 'rc', doc: 'UIC network layer error code' },
  UECT: { offset: 0x44, access: 'rc', doc: 'UIC transport layer error code' },
  UECDME: { offset: 0x48, access: 'rc', doc: 'UIC DME error code' },
  UTRIACR: {
    offset: 0x4c,
    doc: 'transfer request interrupt aggregation control',
    fields: {
      IATOVAL: { bit: 0, width: 8, access: 'rw', doc: 'timeout, 40 us units (written only with IAPWEN)' },
      IACTH: { bit: 8, width: 5, access: 'rw', doc: 'counter threshold (written only with IAPWEN)' },
      CTR: { bit: 16, access: 'wo', doc: 'counter and timer reset' },
      IASB: { bit: 20, access: 'ro', doc: 'aggregation status: completions are being held' },
      IAPWEN: { bit: 24, access: 'wo', doc: 'parameter write enable for IACTH / IATOVAL' },
      IAEN: { bit: 31, access: 'rw', doc: 'aggregation enable' },
    },
  },
  UTRLBA: {
    offset: 0x50,
    doc: 'transfer request list base, low (1 KiB aligned: bits 9:0 reserved)',
    fields: { UTRLBA: { bit: 10, width: 22, access: 'rw' } },
  },
  UTRLBAU: { offset: 0x54, doc: 'transfer request list base, high' },
  UTRLDBR: { offset: 0x58, access: 'w1s', doc: 'doorbell: 1 starts slot n; the controller clears it on completion' },
  UTRLCLR: { offset: 0x5c, access: 'wo', doc: 'write 0 to bit n to clear (abort) slot n' },
  UTRLRSR: { offset: 0x60, fields: { UTRLRSR: { bit: 0, access: 'rw', doc: 'transfer list run/stop' } } },
  UTRLCNR: { offset: 0x64, access: 'w1c', doc: 'completion notification: set when slot n completes' },
  UTMRLBA: {
    offset: 0x70,
    doc: 'task management request list base, low (1 KiB aligned)',
    fields: { UTMRLBA: { bit: 10, width: 22, access: 'rw' } },
  },
  UTMRLBAU: { offset: 0x74, doc: 'task management request list base, high' },
  UTMRLDBR: { offset: 0x78, fields: { UTMRLDBR: { bit: 0, width: 8, access: 'w1s', doc: 'TM doorbell' } } },
  UTMRLCLR: { offset: 0x7c, fields: { UTMRLCLR: { bit: 0, width: 8, access: 'wo', doc: 'write 0 to clear TM slot n' } } },
  UTMRLRSR: { offset: 0x80, fields: { UTMRLRSR: { bit: 0, access: 'rw', doc: 'TM list run/stop' } } },
  UICCMD: { offset: 0x90, fields: { CMDOP: { bit: 0, width: 8, access: 'rw', doc: 'writing an opcode (UIC.*) runs it' } } },
  UCMDARG1: { offset: 0x94, doc: 'MIB attribute (31:16) and GenSelectorIndex (15:0)' },
  UCMDARG2: { offset: 0x98, doc: 'in: attribute set type (23:16); out: result code (7:0, UIC_RESULT.*)' },
  UCMDARG3: { offset: 0x9c, doc: 'attribute value (in for SET, out for GET)' },
  CCAP: { offset: 0x100, access: 'ro', doc: 'crypto capability: 0 (no crypto engine)' },
  CONFIG: { offset: 0x300, fields: { QT: { bit: 0, access: 'rw', doc: 'queue type: 0 legacy doorbell, 1 MCQ (unsupported, stays 0)' } } },
}, { size: 0x1000 });

export type UfsRegSpecs = SpecsOf<typeof UFS_REGS>;

/** IS/IE bit masks by name (Linux names in comments). */
export const UFS_INTR = Object.freeze(Object.fromEntries(
  Object.entries(INTR_BITS).map(([n, f]) => [n, (1 << f.bit) >>> 0]),
) as { readonly [K in IntrName]: number });

/** Bits that can raise the line (Linux `UFS_INTR_MASK`-like: everything but the MCQ event). */
export const UFS_INTR_MASK = 0x7_1fff;
/** Error interrupts Linux enables (`UFSHCD_ERROR_MASK`-like). */
export const UFS_INTR_ERRORS = UFS_INTR.UE | UFS_INTR.DFES | UFS_INTR.HCFES | UFS_INTR.SBFES | UFS_INTR.CEFES | UFS_INTR.UTPES;
/** The UIC power interrupts Linux waits on for power mode / hibernate changes. */
export const UFS_INTR_UIC_PWR = UFS_INTR.UPMS | UFS_INTR.UHES | UFS_INTR.UHXS;

/** HCS.UPMCRS values. */
export const UPMCRS = Object.freeze({ PWR_OK: 0, PWR_LOCAL: 1, PWR_REMOTE: 2, PWR_BUSY: 3, PWR_ERROR_CAP: 4, PWR_FATAL_ERROR: 5 });

// ---- UIC (§1.2) -----------------------------------------------------------------------------

/** UICCMD opcodes. */
export const UIC = Object.freeze({
  DME_GET: 0x01, DME_SET: 0x02, DME_PEER_GET: 0x03, DME_PEER_SET: 0x04,
  DME_POWERON: 0x10, DME_POWEROFF: 0x11, DME_ENABLE: 0x12, DME_RESET: 0x14, DME_END_PT_RST: 0x15,
  DME_LINK_STARTUP: 0x16, DME_HIBER_ENTER: 0x17, DME_HIBER_EXIT: 0x18, DME_TEST_MODE: 0x1a,
});

/** UIC result codes, UCMDARG2 bits 7:0. */
export const UIC_RESULT = Object.freeze({
  SUCCESS: 0x00, INVALID_MIB_ATTRIBUTE: 0x01, INVALID_MIB_ATTRIBUTE_VALUE: 0x02, READ_ONLY_MIB_ATTRIBUTE: 0x03,
  WRITE_ONLY_MIB_ATTRIBUTE: 0x04, BAD_INDEX: 0x05, LOCKED_MIB_ATTRIBUTE: 0x06, BAD_TEST_FEATURE_INDEX: 0x07,
  PEER_COMMUNICATION_FAILURE: 0x08, BUSY: 0x09, DME_FAILURE: 0x0a,
});

/** UCMDARG1 for a MIB attribute (Linux `UIC_ARG_MIB_SEL`). */
export const uicArgMib = (attr: number, selector = 0): number => (((attr & 0xffff) << 16) | (selector & 0xffff)) >>> 0;

/** UniPro / M-PHY attribute IDs (MIPI names, as in Linux `unipro.h`). */
export const PA = Object.freeze({
  AVAILTXDATALANES: 0x1520, AVAILRXDATALANES: 0x1540,
  ACTIVETXDATALANES: 0x1560, CONNECTEDTXDATALANES: 0x1561, TXGEAR: 0x1568, TXTERMINATION: 0x1569, HSSERIES: 0x156a,
  PWRMODE: 0x1571,
  ACTIVERXDATALANES: 0x1580, CONNECTEDRXDATALANES: 0x1581, RXGEAR: 0x1583, RXTERMINATION: 0x1584,
  MAXRXPWMGEAR: 0x1586, MAXRXHSGEAR: 0x1587,
  REMOTEVERINFO: 0x15a0, HIBERN8TIME: 0x15a7, TACTIVATE: 0x15a8, LOCALVERINFO: 0x15a9, GRANULARITY: 0x15aa,
  PWRMODEUSERDATA0: 0x15b0, PWRMODEUSERDATA1: 0x15b1, PWRMODEUSERDATA2: 0x15b2,
  PWRMODEUSERDATA3: 0x15b3, PWRMODEUSERDATA4: 0x15b4, PWRMODEUSERDATA5: 0x15b5,
  TXHSADAPTTYPE: 0x15d4,
});

/** DME attribute IDs. */
export const DME = Object.freeze({
  LOCAL_FC0_PROTECTION_TIMEOUT: 0xd041, LOCAL_TC0_REPLAY_TIMEOUT: 0xd042, LOCAL_AFC0_REQ_TIMEOUT: 0xd043,
  VS_POWERSTATE: 0xd083,
});

/** PA_PWRMODE nibbles: `(rx << 4) | tx`. */
export const PWR_MODE = Object.freeze({ FAST: 1, SLOW: 2, FASTAUTO: 4, SLOWAUTO: 5, UNCHANGED: 7 });
/** PA_HSSERIES values. */
export const HS_SERIES = Object.freeze({ A: 1, B: 2 });

// ---- UTRD / UTMRD / UCD / PRDT (§1.3, §1.4, §1.5) ------------------------------------------

/** UTP Transfer Request Descriptor: 32 bytes, little-endian, slot n at UTRLBA + 32 n. */
export const UTRD = Object.freeze({
  SIZE: 32,
  /** DW0 */
  DW0: 0x00, CT_SHIFT: 28, CT_MASK: 0xf0000000, DD_SHIFT: 25, DD_MASK: 0x06000000, I: 0x01000000, CE: 0x00800000,
  /** DW2: bits 7:0 OCS, written back by the controller. */
  DW2: 0x08,
  UCDBA: 0x10, UCDBAU: 0x14,
  /** DW6: RUL (15:0) and RUO (31:16), both in dwords. */
  DW6: 0x18,
  /** DW7: PRDTL (15:0, entries) and PRDTO (31:16, dwords). */
  DW7: 0x1c,
  /** UCDBA must be 128-byte aligned. */
  UCD_ALIGN: 128,
});

/** UTRD.CT: 1 = UFS storage (UFSHCI >= 2.0). */
export const UTP_CMD_TYPE_UFS_STORAGE = 1;
/** UTRD.DD values (already shifted: Linux `UTP_HOST_TO_DEVICE` etc.). */
export const UTP_DD = Object.freeze({ NONE: 0, HOST_TO_DEVICE: 0x02000000, DEVICE_TO_HOST: 0x04000000 });

/** UTP Task Management Request Descriptor: 80 bytes, slot n at UTMRLBA + 80 n. */
export const UTMRD = Object.freeze({ SIZE: 80, DW0: 0x00, I: 0x01000000, DW2: 0x08, REQ_UPIU: 16, RSP_UPIU: 48, UPIU_SIZE: 32 });

/** PRDT entry: 16 bytes, little-endian. DBC = byte count - 1 (bits 17:0), bits 1:0 must be 11b. */
export const PRDT = Object.freeze({ SIZE: 16, DBA: 0x0, DBAU: 0x4, DBC: 0xc, DBC_MASK: 0x3ffff, MAX_BYTES: 256 * 1024 });

/** Overall Command Status, UTRD DW2 bits 7:0 (and UTMRD). */
export const OCS = Object.freeze({
  SUCCESS: 0x0, INVALID_CMD_TABLE_ATTR: 0x1, INVALID_PRDT_ATTR: 0x2, MISMATCH_DATA_BUF_SIZE: 0x3,
  MISMATCH_RESP_UPIU_SIZE: 0x4, PEER_COMM_FAILURE: 0x5, ABORTED: 0x6, FATAL_ERROR: 0x7, DEVICE_FATAL_ERROR: 0x8,
  INVALID_CRYPTO_CONFIG: 0x9, GENERAL_CRYPTO_ERROR: 0xa, INVALID_COMMAND_STATUS: 0xf,
});

// ---- UPIU (§1.5) ----------------------------------------------------------------------------

/** UPIU transaction codes (header byte 0, bits 5:0). */
export const UPIU_TC = Object.freeze({
  NOP_OUT: 0x00, COMMAND: 0x01, DATA_OUT: 0x02, TASK_REQ: 0x04, QUERY_REQ: 0x16,
  NOP_IN: 0x20, RESPONSE: 0x21, DATA_IN: 0x22, TASK_RSP: 0x24, READY_XFER: 0x31, QUERY_RSP: 0x36, REJECT: 0x3f,
});

/** UPIU byte offsets (big-endian fields). */
export const UPIU = Object.freeze({
  HEADER_SIZE: 12,
  /** Request/response UPIUs are 32 bytes before any data segment (Linux GENERAL_UPIU_REQUEST_SIZE). */
  BASE_SIZE: 32,
  TYPE: 0, FLAGS: 1, LUN: 2, TAG: 3, CMD_SET: 4, FUNCTION: 5, RESPONSE: 6, STATUS: 7, EHS_LEN: 8, DEV_INFO: 9, DSL: 10,
  /** COMMAND: expected data transfer length (BE32) and CDB. */
  EDTL: 12, CDB: 16, CDB_SIZE: 16,
  /** RESPONSE: residual (BE32), sense length (BE16) and sense data. */
  RESIDUAL: 12, SENSE_LEN: 32, SENSE: 34, SENSE_SIZE: 18,
  /** QUERY request/response transaction-specific fields. */
  Q_OPCODE: 12, Q_IDN: 13, Q_INDEX: 14, Q_SELECTOR: 15, Q_LENGTH: 18, Q_VALUE: 20, Q_FLAG_VALUE: 23, Q_DATA: 32,
  /** TASK REQ/RSP parameters (BE32). */
  TM_PARAM1: 12, TM_PARAM2: 16, TM_PARAM3: 20,
});

/** UPIU header flags. */
export const UPIU_FLAGS = Object.freeze({ READ: 0x40, WRITE: 0x20, CP: 0x04, ATTR_SIMPLE: 0, ATTR_ORDERED: 1, ATTR_HEADQ: 2, OVERFLOW: 0x40, UNDERFLOW: 0x20 });
/** UPIU header response byte. */
export const UPIU_RESPONSE = Object.freeze({ TARGET_SUCCESS: 0x00, TARGET_FAILURE: 0x01 });

/** Well-known LUNs as they appear in the UPIU LUN field. */
export const WLUN = Object.freeze({ REPORT_LUNS: 0x81, UFS_DEVICE: 0xd0, BOOT: 0xb0, RPMB: 0xc4 });

/** Query functions (header byte 5) and opcodes. */
export const QUERY_FUNC = Object.freeze({ STANDARD_READ: 0x01, STANDARD_WRITE: 0x81 });
export const QUERY_OP = Object.freeze({
  NOP: 0, READ_DESC: 1, WRITE_DESC: 2, READ_ATTR: 3, WRITE_ATTR: 4, READ_FLAG: 5, SET_FLAG: 6, CLEAR_FLAG: 7, TOGGLE_FLAG: 8,
});
/** Query response codes (header byte 6 of a QUERY RESPONSE). */
export const QUERY_RESULT = Object.freeze({
  SUCCESS: 0x00, NOT_READABLE: 0xf6, NOT_WRITEABLE: 0xf7, ALREADY_WRITTEN: 0xf8, INVALID_LENGTH: 0xf9,
  INVALID_VALUE: 0xfa, INVALID_SELECTOR: 0xfb, INVALID_INDEX: 0xfc, INVALID_IDN: 0xfd, INVALID_OPCODE: 0xfe, GENERAL_FAILURE: 0xff,
});
/** Descriptor IDNs. */
export const DESC_IDN = Object.freeze({ DEVICE: 0, CONFIGURATION: 1, UNIT: 2, INTERCONNECT: 4, STRING: 5, GEOMETRY: 7, POWER: 8, HEALTH: 9 });
/** Flag IDNs. */
export const FLAG_IDN = Object.freeze({
  fDeviceInit: 0x01, fPermanentWPEn: 0x02, fPowerOnWPEn: 0x03, fBackgroundOpsEn: 0x04, fDeviceLifeSpanModeEn: 0x05,
  fPurgeEnable: 0x06, fRefreshEnable: 0x07, fPhyResourceRemoval: 0x08, fBusyRTC: 0x09, fPermanentlyDisableFwUpdate: 0x0b,
  fWriteBoosterEn: 0x0e, fWBFlushEn: 0x0f, fWBFlushDuringHibernate: 0x10,
});
/** Attribute IDNs. */
export const ATTR_IDN = Object.freeze({
  bBootLunEn: 0x00, bCurrentPowerMode: 0x02, bActiveICCLevel: 0x03, bOutOfOrderDataEn: 0x04, bBackgroundOpStatus: 0x05,
  bPurgeStatus: 0x06, bMaxDataInSize: 0x07, bMaxDataOutSize: 0x08, dDynCapNeeded: 0x09, bRefClkFreq: 0x0a,
  bConfigDescrLock: 0x0b, bMaxNumOfRTT: 0x0c, wExceptionEventControl: 0x0d, wExceptionEventStatus: 0x0e,
  dSecondsPassed: 0x0f, wContextConf: 0x10, bDeviceFFUStatus: 0x14, bPSAState: 0x15, dPSADataSize: 0x16,
  bRefClkGatingWaitTime: 0x17, bDeviceCaseRoughTemperature: 0x18, bDeviceTooHighTempBoundary: 0x19,
  bDeviceTooLowTempBoundary: 0x1a, bThrottlingStatus: 0x1b,
});

/** Task management functions (header byte 5 of a TASK REQ) and service responses (output param 1). */
export const TM_FUNC = Object.freeze({
  ABORT_TASK: 0x01, ABORT_TASK_SET: 0x02, CLEAR_TASK_SET: 0x04, LOGICAL_UNIT_RESET: 0x08, QUERY_TASK: 0x80, QUERY_TASK_SET: 0x81,
});
export const TM_SERVICE = Object.freeze({ COMPLETE: 0x00, NOT_SUPPORTED: 0x04, FAILED: 0x05, SUCCEEDED: 0x08, INCORRECT_LUN: 0x09 });

// ---- SCSI (§1.7) ----------------------------------------------------------------------------

export const SCSI_OP = Object.freeze({
  TEST_UNIT_READY: 0x00, REQUEST_SENSE: 0x03, INQUIRY: 0x12, MODE_SELECT_6: 0x15, MODE_SENSE_6: 0x1a,
  START_STOP_UNIT: 0x1b, READ_CAPACITY_10: 0x25, READ_10: 0x28, WRITE_10: 0x2a, SYNCHRONIZE_CACHE_10: 0x35,
  UNMAP: 0x42, MODE_SELECT_10: 0x55, MODE_SENSE_10: 0x5a, READ_16: 0x88, WRITE_16: 0x8a, SYNCHRONIZE_CACHE_16: 0x91,
  SERVICE_ACTION_IN_16: 0x9e, REPORT_LUNS: 0xa0,
});
/** SERVICE ACTION IN(16) service action for READ CAPACITY(16). */
export const SAI_READ_CAPACITY_16 = 0x10;
export const SCSI_STATUS = Object.freeze({ GOOD: 0x00, CHECK_CONDITION: 0x02, BUSY: 0x08, TASK_SET_FULL: 0x28 });
export const SENSE_KEY = Object.freeze({
  NO_SENSE: 0x0, RECOVERED_ERROR: 0x1, NOT_READY: 0x2, MEDIUM_ERROR: 0x3, HARDWARE_ERROR: 0x4,
  ILLEGAL_REQUEST: 0x5, UNIT_ATTENTION: 0x6, DATA_PROTECT: 0x7, ABORTED_COMMAND: 0xb,
});
/** Additional sense code / qualifier pairs, `[asc, ascq]`. */
export const ASC = Object.freeze({
  NO_ADDITIONAL: [0x00, 0x00],
  INVALID_OPCODE: [0x20, 0x00],
  LBA_OUT_OF_RANGE: [0x21, 0x00],
  INVALID_FIELD_IN_CDB: [0x24, 0x00],
  LUN_NOT_SUPPORTED: [0x25, 0x00],
  INVALID_FIELD_IN_PARAM_LIST: [0x26, 0x00],
  PARAM_LIST_LENGTH_ERROR: [0x1a, 0x00],
  SAVING_PARAMS_NOT_SUPPORTED: [0x39, 0x00],
  WRITE_ERROR: [0x0c, 0x00],
  UNRECOVERED_READ_ERROR: [0x11, 0x00],
} as const satisfies Record<string, readonly [number, number]>);
