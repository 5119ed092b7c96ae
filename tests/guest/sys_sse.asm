; SSE, SSE2 and MMX from a guest's point of view: CPUID advertises FXSR,
; SSE and SSE2; MMX registers alias the x87 stack; with CR4.OSFXSR=0 an SSE instruction is #UD; with OSFXSR set,
; SSE2 arithmetic, shuffles, conversions and COMISD give exact answers;
; FXSAVE/FXRSTOR round-trip an XMM register and MXCSR; CR0.TS gives #NM,
; a misaligned MOVAPS #GP, an unmasked divide-by-zero #XM with
; CR4.OSXMMEXCPT=1 and #UD without it, leaving the destination unchanged.
; umbra-args: -bios {bin} -no-reboot
%include "sys_lib.inc"
[bits 16]
org 0
FAULTVEC equ 0x5e0
RESUME   equ 0x5e4
FXAREA   equ 0x4000
SCRATCH  equ 0x5000

; TRAP "name", vector, instruction...: run the instruction and check the
; exception it raised (-1: none).  The handlers resume after it.
%macro TRAP 3+
    mov dword [FAULTVEC], -1
    mov dword [RESUME], %%r
    %3
%%r:
    CHK %1, [FAULTVEC], %2
%endmacro

start:
    ENTER_PM32 pm
pm:
    STD_IDT
    SET_GATE 6, h_ud
    SET_GATE 7, h_nm
    SET_GATE 13, h_gp
    SET_GATE 19, h_xm
    mov eax, 1
    cpuid
    and edx, (1 << 24) | (1 << 25) | (1 << 26)
    CHK "cpuid fxsr sse sse2", edx, (1 << 24) | (1 << 25) | (1 << 26)

    ; ---- CR4.OSFXSR=0: SIMD instructions are #UD, fences are not ----
    TRAP "osfxsr=0 addps", 6, addps xmm0, xmm1
    TRAP "osfxsr=0 sfence", -1, sfence
    mov eax, cr4
    or eax, (1 << 9) | (1 << 10)        ; OSFXSR, OSXMMEXCPT
    mov cr4, eax
    TRAP "osfxsr=1 addps", -1, addps xmm0, xmm1

    ; ---- arithmetic: sqrt(1,4,9,16) = 1,2,3,4; reversed and added: 5s ----
    movdqu xmm0, [ROM + squares]
    sqrtps xmm0, xmm0
    cvtps2dq xmm1, xmm0
    pshufd xmm2, xmm1, 0x1b
    paddd xmm1, xmm2
    movd eax, xmm1
    CHK "sqrt/cvt/pshufd/paddd", eax, 5
    psrldq xmm1, 12
    movd eax, xmm1
    CHK "psrldq", eax, 5
    ; 1.5 * 2.0 = 3.0 in double, truncated to an integer
    movsd xmm3, [ROM + one_half]
    mulsd xmm3, [ROM + two]
    cvttsd2si eax, xmm3
    CHK "mulsd/cvttsd2si", eax, 3
    ; COMISD 3.0 against 2.0: above (CF=0 ZF=0); 2.0 against 3.0: below
    movsd xmm4, [ROM + two]
    comisd xmm3, xmm4
    seta al
    comisd xmm4, xmm3
    setb ah
    movzx eax, ax
    CHK "comisd", eax, 0x0101
    ; PMOVMSKB of PCMPEQB against itself: all ones
    pcmpeqb xmm5, xmm5
    pmovmskb eax, xmm5
    CHK "pcmpeqb/pmovmskb", eax, 0xffff
    ; masked divide by zero: infinity and ZE in MXCSR
    xorpd xmm6, xmm6
    movsd xmm7, [ROM + two]
    divsd xmm7, xmm6
    stmxcsr [SCRATCH]
    CHK "mxcsr after 2/0", [SCRATCH], 0x1f84
    movq [SCRATCH], xmm7
    CHK "2/0 high", [SCRATCH + 4], 0x7ff00000

    ; ---- MMX: MM1 is x87 R1; EMMS empties the tags ----
    fninit
    movq mm1, [ROM + two]               ; 0x4000000000000000
    psrlq mm1, 32
    paddd mm1, mm1
    movd eax, mm1
    CHK "mmx psrlq/paddd", eax, 0x80000000
    fnstenv [SCRATCH]
    ; every tag valid, classified by content: R1 special (exponent all
    ; ones), the others still +0.0 from reset: zero
    CHK "mmx tags", [SCRATCH + 8], 0xffff5559
    emms
    fnstenv [SCRATCH]
    CHK "emms tags", [SCRATCH + 8], 0xffffffff

    ; ---- FXSAVE / FXRSTOR ----
    mov dword [SCRATCH], 0x12345678
    movd xmm7, [SCRATCH]
    fxsave [FXAREA]
    CHK "fxsave mxcsr", [FXAREA + 24], 0x1f84
    CHK "fxsave mxcsr_mask", [FXAREA + 28], 0xffff
    CHK "fxsave xmm7", [FXAREA + 160 + 7 * 16], 0x12345678
    pxor xmm7, xmm7
    mov dword [SCRATCH], 0x1f80
    ldmxcsr [SCRATCH]
    fxrstor [FXAREA]
    movd eax, xmm7
    CHK "fxrstor xmm7", eax, 0x12345678
    stmxcsr [SCRATCH]
    CHK "fxrstor mxcsr", [SCRATCH], 0x1f84
    mov dword [FXAREA + 24], 0x10000    ; reserved MXCSR bit
    TRAP "fxrstor reserved mxcsr", 13, fxrstor [FXAREA]

    ; ---- #NM, #GP, #XM, #UD ----
    mov eax, cr0
    or eax, 1 << 3                      ; TS
    mov cr0, eax
    TRAP "ts movaps", 7, movaps xmm0, xmm1
    clts
    TRAP "misaligned movaps", 13, movaps xmm0, [FXAREA + 8]
    TRAP "misaligned movups", -1, movups xmm0, [FXAREA + 8]
    mov dword [SCRATCH], 0x1f80 & ~(1 << 9)  ; ZE unmasked
    ldmxcsr [SCRATCH]
    movsd xmm7, [ROM + two]
    TRAP "unmasked 2/0", 19, divsd xmm7, xmm6
    movq [SCRATCH], xmm7
    CHK "destination kept", [SCRATCH + 4], 0x40000000
    mov eax, cr4
    and eax, ~(1 << 10)                 ; OSXMMEXCPT off
    mov cr4, eax
    TRAP "unmasked 2/0 no osxmmexcpt", 6, divsd xmm7, xmm6
    FINISH

h_ud: mov dword [FAULTVEC], 6
    jmp resume
h_nm: mov dword [FAULTVEC], 7
    jmp resume
h_gp: mov dword [FAULTVEC], 13
    add esp, 4                          ; error code
    jmp resume
h_xm: mov dword [FAULTVEC], 19
resume:
    add esp, 12                         ; EIP, CS, EFLAGS
    jmp dword [RESUME]

    align 16
squares: dd 1.0, 4.0, 9.0, 16.0
one_half: dq 1.5
two: dq 2.0

    STD_GDT
    SYS_HELPERS
    UNEXPECTED_STUBS
    ROM_END start
