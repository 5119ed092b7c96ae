; umbra-args: -bios {bin} -no-reboot
; Protected-mode exceptions: each vector is provoked once and the stub
; records vector, error code and the saved EIP, which must be the faulting
; instruction for faults and the next one for traps (SDM vol. 3A, 6.15).
%include "lib.inc"
%include "pm_lib.inc"

PD      equ 0x10000
PT      equ 0x11000

main:
    PRINT "pm_exceptions", 10

    ; #DE: divide by zero (fault)
    TRY .de_r
    xor ecx, ecx
    mov eax, 1
    xor edx, edx
.de_f:
    div ecx
.de_r:
    CHECK_EXC "#DE", 0, NOERR, .de_f

    ; #DB: single step traps after the instruction following POPF
    TRY 0
    pushfd
    or dword [esp], 0x100
    popfd
    nop
.db_after:
    CHECK_EXC "#DB", 1, NOERR, .db_after

    ; #BP: INT3 is a trap
    TRY 0
    int3
.bp_after:
    CHECK_EXC "#BP", 3, NOERR, .bp_after

    ; #OF: INTO with OF set is a trap; with OF clear nothing happens
    TRY 0
    mov al, 0x7f
    add al, 1
    into
.of_after:
    CHECK_EXC "#OF", 4, NOERR, .of_after
    TRY 0
    mov al, 1
    add al, 1
    into
    CHECK_EQ "into no OF", [got_vec], 0xff

    ; #BR: BOUND out of range (fault)
    TRY .br_r
    mov eax, 5
.br_f:
    bound eax, [bounds]
.br_r:
    CHECK_EXC "#BR", 5, NOERR, .br_f

    ; #UD
    TRY .ud_r
.ud_f:
    ud2
.ud_r:
    CHECK_EXC "#UD", 6, NOERR, .ud_f

    ; #NM: FWAIT with CR0.MP and CR0.TS
    mov eax, cr0
    or eax, 0x0a
    mov cr0, eax
    TRY .nm_r
.nm_f:
    fwait
.nm_r:
    clts
    CHECK_EXC "#NM", 7, NOERR, .nm_f

    ; #TS: JMP to a TSS whose limit is below 0x67
    mov edi, GDT_BASE + 0x48
    mov eax, TSS3
    mov ebx, 0x20
    mov ecx, 0x8900
    call make_desc
    TRY .ts_r
.ts_f:
    jmp 0x48:0
.ts_r:
    CHECK_EXC "#TS", 10, 0x48, .ts_f

    ; #NP: a not-present data segment into ES
    mov edi, GDT_BASE + 0x50
    xor eax, eax
    mov ebx, 0xfffff
    mov ecx, 0x00cf1200
    call make_desc
    mov ax, 0x50
    TRY .np_r
.np_f:
    mov es, ax
.np_r:
    CHECK_EXC "#NP", 11, 0x50, .np_f

    ; #SS: the same segment into SS
    mov ax, 0x50
    TRY .ss_r
.ss_f:
    mov ss, ax
.ss_r:
    CHECK_EXC "#SS", 12, 0x50, .ss_f

    ; #GP: selector beyond the GDT limit
    mov ax, 0x1f8
    TRY .gp1_r
.gp1_f:
    mov ds, ax
.gp1_r:
    CHECK_EXC "#GP sel", 13, 0x1f8, .gp1_f

    ; #GP: write through CS
    TRY .gp2_r
.gp2_f:
    mov [cs:scratch], eax
.gp2_r:
    CHECK_EXC "#GP cs write", 13, 0, .gp2_f

    ; #GP: INT n beyond the IDT limit (IDT form, EXT = 0)
    lidt [small_idt]
    TRY .gp3_r
.gp3_f:
    int 0x50
.gp3_r:
    lidt [idt_ptr]
    CHECK_EXC "#GP idt limit", 13, 0x282, .gp3_f

    ; #GP: INT n to an empty IDT slot (not a gate)
    TRY .gp4_r
.gp4_f:
    int 0x51
.gp4_r:
    CHECK_EXC "#GP no gate", 13, 0x28a, .gp4_f

    ; #DF: #GP while the #GP gate is not present (#NP, contributory)
    and byte [IDT_BASE + 13 * 8 + 5], 0x7f
    mov ax, 0x1f8
    TRY .df_r
.df_f:
    mov ds, ax
.df_r:
    or byte [IDT_BASE + 13 * 8 + 5], 0x80
    CHECK_EXC "#DF", 8, 0, .df_f

    ; #PF: identity-map 4 MiB, with 0x300000 absent and 0x301000 read-only
    mov edi, PT
    mov eax, 3
    mov ecx, 1024
.pt:
    mov [edi], eax
    add eax, 0x1000
    add edi, 4
    dec ecx
    jnz .pt
    mov dword [PT + 0x300 * 4], 0
    and dword [PT + 0x301 * 4], ~2
    mov edi, PD
    xor eax, eax
    mov ecx, 1024
    rep stosd
    mov dword [PD], PT | 3
    mov eax, PD
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax

    TRY .pf1_r
.pf1_f:
    mov eax, [0x300010]
.pf1_r:
    CHECK_EXC "#PF read", 14, 0, .pf1_f
    CHECK_EQ "cr2", [got_cr2], 0x300010
    TRY .pf2_r
.pf2_f:
    mov dword [0x300ffe], 0x12345678
.pf2_r:
    CHECK_EXC "#PF write", 14, 2, .pf2_f
    CHECK_EQ "cr2", [got_cr2], 0x300ffe
    ; supervisor writes to a read-only page fault only with CR0.WP
    TRY 0
    mov dword [0x301000], 0x1234
    CHECK_EQ "wp=0 write", [got_vec], 0xff
    mov eax, cr0
    or eax, 0x10000
    mov cr0, eax
    TRY .pf3_r
.pf3_f:
    mov dword [0x301004], 0x5678
.pf3_r:
    CHECK_EXC "#PF wp", 14, 3, .pf3_f
    mov eax, cr0
    and eax, 0x7ffeffff
    mov cr0, eax

    CHECK_EQ "exceptions", [got_count], 18
    jmp finish

bounds:
    dd 0, 3
small_idt:
    dw 0x1ff
    dd IDT_BASE

    ROM_END
