; The demo guest: a 64 KiB firmware image for `umbra -bios demo.bin`.
; It starts at the reset vector in real mode, prints a banner on the
; debug console (port 0xE9), enters 32-bit protected mode, counts and sums
; the primes below 10000 with a sieve of Eratosthenes, prints the result
; and leaves through the exit device (port 0xF4) with value 0.
; POST codes on port 0x80 mark the stages (see them with -d post).

    bits 16
    org 0

SIEVE equ 0x10000              ; scratch RAM for the sieve
LIMIT equ 10000

%define ROM(x) (ROM_BASE + (x))

; Print the bytes between labels %1 and %1_end with `rep outsb`.
%macro PRINT 1
    mov esi, ROM(%1)
    mov ecx, %1_end - %1
    mov dx, 0xe9
    rep outsb
%endmacro

start16_banner:                ; reached from the reset vector below
    mov al, 0x01
    out 0x80, al
    mov ax, cs
    mov ds, ax
    mov si, banner
    mov cx, banner_end - banner
    mov dx, 0xe9
    cld
    rep outsb
    jmp boot32_start

%include "boot32.inc"

    bits 32
main32:
    mov al, 0x02
    out 0x80, al
    cld
    PRINT pm_msg

    ; Sieve: one byte per number, 1 = prime.
    mov edi, SIEVE
    mov ecx, LIMIT
    mov al, 1
    rep stosb
    mov byte [SIEVE + 0], 0
    mov byte [SIEVE + 1], 0
    mov ebx, 2
.outer:
    mov eax, ebx
    imul eax, ebx
    cmp eax, LIMIT
    jae .count
    cmp byte [SIEVE + ebx], 0
    je .next
.strike:
    mov byte [SIEVE + eax], 0
    add eax, ebx
    cmp eax, LIMIT
    jb .strike
.next:
    inc ebx
    jmp .outer

.count:
    mov al, 0x03
    out 0x80, al
    xor ebx, ebx               ; how many
    xor ebp, ebp               ; their sum
    xor ecx, ecx
.scan:
    cmp byte [SIEVE + ecx], 0
    je .composite
    inc ebx
    add ebp, ecx
.composite:
    inc ecx
    cmp ecx, LIMIT
    jb .scan

    PRINT count_msg
    mov eax, ebx
    call print_dec
    PRINT sum_msg
    mov eax, ebp
    call print_dec
    mov al, 10
    out 0xe9, al
    PRINT bye_msg

    mov al, 0x04
    out 0x80, al
    mov al, 0
    out 0xf4, al
.hang:
    hlt
    jmp .hang

; Print EAX in decimal on port 0xE9.
print_dec:
    mov ecx, 10
    xor esi, esi               ; digits pushed
.div:
    xor edx, edx
    div ecx
    add dl, '0'
    push edx
    inc esi
    test eax, eax
    jnz .div
.out:
    pop eax
    out 0xe9, al
    dec esi
    jnz .out
    ret

banner:    db "Umbra demo: hello from real mode at F000:FFF0", 10
banner_end:
pm_msg:    db "Umbra demo: now in 32-bit protected mode", 10
pm_msg_end:
count_msg: db "Umbra demo: primes below 10000: "
count_msg_end:
sum_msg:   db ", their sum: "
sum_msg_end:
bye_msg:   db "Umbra demo: done, leaving through port 0xf4", 10
bye_msg_end:

    times 0xFFF0 - ($ - $$) db 0xF4
    bits 16
    jmp 0xF000:start16_banner
    times 0x10000 - ($ - $$) db 0xF4
