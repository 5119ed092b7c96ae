; umbra-args: -bios {bin} -no-reboot
; Privilege transitions (SDM vol. 3A, 5.8 and 6.12): ring 0 -> 3 by IRET
; and by RETF, ring 3 -> 0 through a call gate (parameters copied to the
; TSS stack) and through an INT n gate of DPL 3, and back; data segment
; registers nulled on the way out; gate and code privilege faults.
%include "lib.inc"
%include "pm_lib.inc"

r3_cpl      equ scratch + 0x00
r3_ss       equ scratch + 0x04
r3_esp      equ scratch + 0x08
r3_ds       equ scratch + 0x0c
r3_esp2     equ scratch + 0x10
r3_es       equ scratch + 0x14
r3_eax80    equ scratch + 0x18
g_cpl       equ scratch + 0x20
g_esp       equ scratch + 0x24
g_p1        equ scratch + 0x28
g_p2        equ scratch + 0x2c
g_oldesp    equ scratch + 0x30
g_oldss     equ scratch + 0x34
i_cpl       equ scratch + 0x40
i_esp       equ scratch + 0x44
i_oldss     equ scratch + 0x48
i_oldesp    equ scratch + 0x4c
e81_err     equ scratch + 0x50
e81_eip     equ scratch + 0x54
ejg_err     equ scratch + 0x58
ecg_err     equ scratch + 0x5c
r3b_cpl     equ scratch + 0x60
r0_cont     equ scratch + 0x64
r3_cs_fault equ scratch + 0x68

main:
    PRINT "pm_rings", 10
    ; 0x48: call gate, DPL 3, 32-bit, 2 parameters -> 0x08:gate_entry
    mov edi, GDT_BASE + 0x48
    mov eax, gate_entry
    mov bx, 0x08
    mov ecx, 0xec02
    call make_gate
    ; 0x50: the same gate with DPL 0
    mov edi, GDT_BASE + 0x50
    mov ecx, 0x8c02
    call make_gate
    ; INT 0x80: interrupt gate DPL 3; 0x81: DPL 0; 0x82: trap gate DPL 3
    mov edi, IDT_BASE + 0x80 * 8
    mov eax, int80_entry
    mov ecx, 0xee00
    call make_gate
    mov edi, IDT_BASE + 0x81 * 8
    mov ecx, 0x8e00
    call make_gate
    mov edi, IDT_BASE + 0x82 * 8
    mov eax, int82_entry
    mov ecx, 0xef00
    call make_gate

    ; ---- ring 0 -> ring 3 by IRET (IOPL 3) ----
    mov dword [r0_cont], ring0_back
    push dword 0x23
    push dword STACK3_TOP
    push dword 0x3002
    push dword 0x1b
    push dword ring3_a
    iretd

ring3_a:
    mov eax, cs
    and eax, 3
    mov [ss:r3_cpl], eax
    mov eax, ss
    mov [ss:r3_ss], eax
    mov [ss:r3_esp], esp
    mov eax, ds
    mov [ss:r3_ds], eax
    mov ax, 0x23
    mov ds, ax
    mov es, ax
    ; call gate with two parameters
    push dword 0x11111111
    push dword 0x22222222
    call 0x4b:0
    mov [r3_esp2], esp
    mov eax, es
    mov [r3_es], eax
    mov ax, 0x23
    mov es, ax
    ; INT n through a DPL 3 gate
    int 0x80
    mov [r3_eax80], eax
    ; INT n through a DPL 0 gate: #GP(vector * 8 + 2)
    TRY .r81
.f81:
    int 0x81
.r81:
    mov eax, [got_err]
    mov [e81_err], eax
    mov eax, [got_eip]
    mov [e81_eip], eax
    mov eax, [got_cs]
    mov [r3_cs_fault], eax
    ; JMP through a call gate to a more privileged segment: #GP(code sel)
    TRY .rjg
    jmp 0x4b:0
.rjg:
    mov eax, [got_err]
    mov [ejg_err], eax
    ; CALL through a gate whose DPL is below CPL: #GP(gate sel)
    TRY .rcg
    call 0x53:0
.rcg:
    mov eax, [got_err]
    mov [ecg_err], eax
    ; HLT at ring 3: #GP(0)
    TRY .rh
.fh:
    hlt
.rh:
    int 0x82

ring0_back:
    CHECK_EQ "iret cpl", [r3_cpl], 3
    CHECK_EQ "iret ss", [r3_ss], 0x23
    CHECK_EQ "iret esp", [r3_esp], STACK3_TOP
    CHECK_EQ "iret ds nulled", [r3_ds], 0
    CHECK_EQ "gate cpl", [g_cpl], 0
    CHECK_EQ "gate esp", [g_esp], STACK0_TOP - 24
    CHECK_EQ "gate p1", [g_p1], 0x11111111
    CHECK_EQ "gate p2", [g_p2], 0x22222222
    CHECK_EQ "gate old esp", [g_oldesp], STACK3_TOP - 8
    CHECK_EQ "gate old ss", [g_oldss], 0x23
    CHECK_EQ "retf esp", [r3_esp2], STACK3_TOP
    CHECK_EQ "retf es nulled", [r3_es], 0
    CHECK_EQ "int cpl", [i_cpl], 0
    CHECK_EQ "int esp", [i_esp], STACK0_TOP - 20
    CHECK_EQ "int old ss", [i_oldss], 0x23
    CHECK_EQ "int old esp", [i_oldesp], STACK3_TOP
    CHECK_EQ "int ret", [r3_eax80], 0x80808080
    CHECK_EQ "int dpl err", [e81_err], 0x40a
    CHECK_SAME "int dpl eip", [e81_eip], ring3_a.f81
    CHECK_EQ "fault cs", [r3_cs_fault], 0x1b
    CHECK_EQ "jmp gate err", [ejg_err], 0x08
    CHECK_EQ "call gate dpl err", [ecg_err], 0x50
    CHECK_EXC "hlt at ring 3", 13, 0, ring3_a.fh

    ; ---- ring 0 -> ring 3 by RETF ----
    mov dword [r0_cont], ring0_back2
    push dword 0x23
    push dword STACK3_TOP
    push dword 0x1b
    push dword ring3_b
    retf
ring3_b:
    mov eax, cs
    and eax, 3
    mov [ss:r3b_cpl], eax
    int 0x82
ring0_back2:
    CHECK_EQ "retf cpl", [r3b_cpl], 3
    mov eax, cs
    CHECK_EQ "back cs", eax, 0x08
    jmp finish

; Call-gate target at ring 0: record the new stack, return with RETF 8.
gate_entry:
    mov eax, cs
    and eax, 3
    mov [g_cpl], eax
    mov [g_esp], esp
    mov eax, [esp + 12]
    mov [g_p1], eax
    mov eax, [esp + 8]
    mov [g_p2], eax
    mov eax, [esp + 16]
    mov [g_oldesp], eax
    mov eax, [esp + 20]
    mov [g_oldss], eax
    mov ax, 0x10
    mov es, ax              ; DPL 0: RETF to ring 3 must null it
    retf 8

int80_entry:
    mov eax, cs
    and eax, 3
    mov [i_cpl], eax
    mov [i_esp], esp
    mov eax, [esp + 16]
    mov [i_oldss], eax
    mov eax, [esp + 12]
    mov [i_oldesp], eax
    mov eax, 0x80808080
    iretd

; Leave ring 3 for good: drop the frame and continue at [r0_cont].
int82_entry:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov esp, STACK0_TOP
    jmp [r0_cont]

    ROM_END
